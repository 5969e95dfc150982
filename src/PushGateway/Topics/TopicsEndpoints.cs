using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using PushGateway.Data;
using PushGateway.Hosting;

namespace PushGateway.Topics;

internal sealed record TopicResponse(string Name, DateTimeOffset CreatedAt, long SubscriptionCount);

internal sealed record TopicList(IReadOnlyList<TopicResponse> Items, string? NextCursor);

internal sealed record SubscriptionResponse(Guid EndpointId, Guid ApplicationId, bool Enabled, DateTimeOffset SubscribedAt);

internal sealed record SubscriptionPage(IReadOnlyList<SubscriptionResponse> Items, string? NextCursor);

/// <summary>Topics: named fan-out lists of endpoints (SNS Topic + application subscriptions).</summary>
internal static partial class TopicsEndpoints
{
    [GeneratedRegex("^[A-Za-z0-9_-]{1,256}$")]
    private static partial Regex NamePattern();

    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    public static void MapTopics(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/topics").WithTags("Topics").RequireProjectKey();
        group.MapGet("/", ListAsync)
            .WithName("listTopics")
            .Produces<TopicList>()
            .ProblemResponse(StatusCodes.Status400BadRequest, PageInvalid)
            .WithSummary("List the project's topics by name (keyset pagination: limit 1..1000, default 100; pass nextCursor as cursor).");
        group.MapPut("/{name}", CreateAsync)
            .WithName("createTopic")
            .Produces<TopicResponse>(StatusCodes.Status201Created)
            .Produces<TopicResponse>()
            .ProblemResponse(StatusCodes.Status400BadRequest, "The name is not 1 to 256 characters of [A-Za-z0-9_-] (`validation`).")
            .WithSummary("Create a topic (201), or confirm it exists (200). Name: 1..256 of [A-Za-z0-9_-].");
        group.MapGet("/{name}", GetAsync)
            .WithName("getTopic")
            .Produces<TopicResponse>()
            .ProblemResponse(StatusCodes.Status404NotFound, TopicMissing)
            .WithSummary("Get a topic and its subscription count.");
        group.MapDelete("/{name}", DeleteAsync)
            .WithName("deleteTopic")
            .Produces(StatusCodes.Status204NoContent)
            .ProblemResponse(StatusCodes.Status404NotFound, TopicMissing)
            .WithSummary("Delete a topic and its subscriptions.");
        group.MapPut("/{name}/subscriptions/{endpointId:guid}", SubscribeAsync)
            .WithName("subscribeEndpoint")
            .Produces(StatusCodes.Status204NoContent)
            .ProblemResponse(StatusCodes.Status404NotFound, "The topic or the endpoint does not exist in this project.")
            .WithSummary("Subscribe an endpoint to the topic (idempotent).");
        group.MapDelete("/{name}/subscriptions/{endpointId:guid}", UnsubscribeAsync)
            .WithName("unsubscribeEndpoint")
            .Produces(StatusCodes.Status204NoContent)
            .ProblemResponse(StatusCodes.Status404NotFound, TopicMissing)
            .WithSummary("Unsubscribe an endpoint (idempotent).");
        group.MapGet("/{name}/subscriptions", ListSubscriptionsAsync)
            .WithName("listSubscriptions")
            .Produces<SubscriptionPage>()
            .ProblemResponse(StatusCodes.Status400BadRequest, PageInvalid)
            .ProblemResponse(StatusCodes.Status404NotFound, TopicMissing)
            .WithSummary("List a topic's subscriptions (keyset pagination by endpoint id).");
    }

    private const string TopicMissing = "The topic does not exist in this project.";

    private const string PageInvalid = "`limit` or `cursor` is not valid (`validation`; `errors` names it).";

    private const int MaxName = 256;

    private static async Task<IResult> ListAsync(ProjectScope scope, PushGatewayDbContext db, string? limit, string? cursor, CancellationToken cancellationToken)
    {
        var v = new Validation();
        if (!Cursor.TryReadTextPage(limit, cursor, MaxName, v, out var take, out var after))
        {
            return v.ToProblem();
        }

        // Keyset on (project_id, name), the unique index; names sort the same way in the cursor's comparison and the ORDER BY.
        var query = db.Topics.AsNoTracking().Where(t => t.ProjectId == scope.ProjectId);
        if (after is not null)
        {
            query = query.Where(t => string.Compare(t.Name, after) > 0);
        }

        var rows = await query.OrderBy(t => t.Name).Take(take + 1)
            .Select(t => new TopicResponse(t.Name, t.CreatedAt, db.TopicSubscriptions.LongCount(s => s.TopicId == t.Id)))
            .ToListAsync(cancellationToken);
        var (items, next) = Cursor.Split(rows, take, t => Cursor.EncodeText(t.Name));
        return TypedResults.Ok(new TopicList(items, next));
    }

    private static async Task<IResult> CreateAsync(string name, ProjectScope scope, PushGatewayDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!IsValidName(name))
        {
            return Problems.Validation("name", "1 to 256 characters of A-Z, a-z, 0-9, '_' and '-'.");
        }

        var (topic, created) = await TopicStore.EnsureAsync(db, scope.ProjectId, name, time.UtcNow(), cancellationToken);
        var count = created ? 0 : await db.TopicSubscriptions.LongCountAsync(s => s.TopicId == topic.Id, cancellationToken);
        var response = new TopicResponse(topic.Name, topic.CreatedAt, count);
        return created ? TypedResults.Created($"/v1/topics/{name}", response) : TypedResults.Ok(response);
    }

    private static async Task<IResult> GetAsync(string name, ProjectScope scope, PushGatewayDbContext db, CancellationToken cancellationToken)
    {
        var topic = await FindAsync(db, scope, name, cancellationToken);
        if (topic is null)
        {
            return NotFound(name);
        }

        var count = await db.TopicSubscriptions.LongCountAsync(s => s.TopicId == topic.Id, cancellationToken);
        return TypedResults.Ok(new TopicResponse(topic.Name, topic.CreatedAt, count));
    }

    private static async Task<IResult> DeleteAsync(string name, ProjectScope scope, PushGatewayDbContext db, CancellationToken cancellationToken)
    {
        var deleted = await TopicStore.DeleteAsync(db, scope.ProjectId, name, cancellationToken);
        return deleted ? TypedResults.NoContent() : NotFound(name);
    }

    private static async Task<IResult> SubscribeAsync(string name, Guid endpointId, ProjectScope scope, PushGatewayDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var topic = await FindAsync(db, scope, name, cancellationToken);
        if (topic is null)
        {
            return NotFound(name);
        }

        if (!await TopicStore.SubscribeAsync(db, scope.ProjectId, topic.Id, endpointId, time.UtcNow(), cancellationToken))
        {
            return Problems.NotFound($"Endpoint {endpointId} does not exist.");
        }

        return TypedResults.NoContent();
    }

    private static async Task<IResult> UnsubscribeAsync(string name, Guid endpointId, ProjectScope scope, PushGatewayDbContext db, CancellationToken cancellationToken)
    {
        var topic = await FindAsync(db, scope, name, cancellationToken);
        if (topic is null)
        {
            return NotFound(name);
        }

        await TopicStore.UnsubscribeAsync(db, topic.Id, endpointId, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> ListSubscriptionsAsync(
        string name, ProjectScope scope, PushGatewayDbContext db, string? limit, string? cursor, CancellationToken cancellationToken)
    {
        var v = new Validation();
        if (!Cursor.TryReadPage(limit, cursor, v, out var take, out var after))
        {
            return v.ToProblem();
        }

        var topic = await FindAsync(db, scope, name, cancellationToken);
        if (topic is null)
        {
            return NotFound(name);
        }

        var query = db.TopicSubscriptions.AsNoTracking().Where(s => s.TopicId == topic.Id);
        if (after is { } last)
        {
            query = query.Where(s => s.EndpointId > last);
        }

        var page = await query
            .Join(db.Endpoints, s => s.EndpointId, e => e.Id, (s, e) => new { e.Id, e.ApplicationId, e.Enabled, s.CreatedAt })
            .OrderBy(x => x.Id).Take(take + 1)
            .Select(x => new SubscriptionResponse(x.Id, x.ApplicationId, x.Enabled, x.CreatedAt))
            .ToListAsync(cancellationToken);
        var next = page.Count > take ? Cursor.Encode(page[take - 1].EndpointId) : null;
        return TypedResults.Ok(new SubscriptionPage(page.Take(take).ToList(), next));
    }

    private static Task<Topic?> FindAsync(PushGatewayDbContext db, ProjectScope scope, string name, CancellationToken cancellationToken) =>
        TopicStore.FindAsync(db, scope.ProjectId, name, cancellationToken);

    private static IResult NotFound(string name) => Problems.NotFound($"Topic '{name}' does not exist.");
}
