using Npgsql;
using PushGateway.Data;

namespace PushGateway.Messages;

/// <summary>
/// The endpoints a user, users, topic or application target stands for, as SQL: what the accept probes for the
/// size check and what <see cref="FanOutExpander"/> inserts deliveries for, batch by batch.
/// </summary>
/// <param name="Kind">The target kind (<see cref="TargetKinds"/>).</param>
/// <param name="ScopeId">The topic or application, resolved when the message was accepted.</param>
/// <param name="UserIds">The users of a user or users target.</param>
internal sealed record FanOutTarget(string Kind, Guid? ScopeId, string[]? UserIds)
{
    /// <summary>FROM … WHERE selecting the target endpoints (e) and their applications (a), for project <c>@p</c>.</summary>
    public string FromWhere => Kind switch
    {
        TargetKinds.Topic => "FROM topic_subscriptions s JOIN endpoints e ON e.id = s.endpoint_id JOIN applications a ON a.id = e.application_id WHERE s.topic_id = @scope AND e.project_id = @p",
        // Paged along the (application_id, id) index.
        TargetKinds.Application => "FROM endpoints e JOIN applications a ON a.id = e.application_id WHERE e.project_id = @p AND e.application_id = @scope",
        TargetKinds.User or TargetKinds.Users => "FROM endpoints e JOIN applications a ON a.id = e.application_id WHERE e.project_id = @p AND e.user_id = ANY(@users)",
        _ => throw new InvalidOperationException($"Not a fan-out target: {Kind}."),
    };

    /// <summary>
    /// The endpoint id column the expansion pages by: the one the best index for this target is ordered by, so that
    /// each batch starts where the last one ended instead of walking the index from its beginning again. The condition
    /// is also put on <c>e.id</c> (the same value) so that a merge join starts both sides there.
    /// </summary>
    public string Key => Kind == TargetKinds.Topic ? "s.endpoint_id" : "e.id";

    public static bool IsFanOut(string kind) => kind is TargetKinds.User or TargetKinds.Users or TargetKinds.Topic or TargetKinds.Application;

    public void Bind(NpgsqlParameterCollection parameters, Guid projectId)
    {
        parameters.Add(new NpgsqlParameter<Guid>("p", projectId));
        if (Kind is TargetKinds.User or TargetKinds.Users)
        {
            parameters.Add(new NpgsqlParameter<string[]>("users", UserIds!));
        }
        else
        {
            parameters.Add(new NpgsqlParameter<Guid>("scope", ScopeId!.Value));
        }
    }
}
