using Microsoft.EntityFrameworkCore;
using PushGateway.Data;
using PushGateway.Hosting;
using PushGateway.Topics;

namespace PushGateway.Sns;

/// <summary>
/// Topics and their <c>application</c> subscriptions, on the gateway's topics (<see cref="TopicStore"/>). A
/// subscription ARN is the topic ARN and the endpoint's id; subscriptions need no confirmation.
/// </summary>
internal static class TopicActions
{
    public static async Task<byte[]> CreateAsync(SnsContext context, QueryParameters p, IServiceProvider services, CancellationToken cancellationToken)
    {
        var name = p.Required("Name");
        if (!TopicsEndpoints.IsValidName(name))
        {
            throw SnsException.InvalidParameter("Invalid parameter: Topic Name");
        }

        if (p.Map("Attributes") is { Count: > 0 } || p.Has("Tags.member") || p.Get("DataProtectionPolicy") is not null)
        {
            throw SnsException.InvalidParameter("Attributes", "PushGateway topics take no attributes, tags or data protection policy");
        }

        var db = services.GetRequiredService<PushGatewayDbContext>();
        await TopicStore.EnsureAsync(db, context.ProjectId, name, services.GetRequiredService<TimeProvider>().UtcNow(), cancellationToken);
        return Result(context, w => SnsXml.Element(w, "TopicArn", SnsArn.ForTopic(context, name)));
    }

    public static async Task<byte[]> DeleteAsync(SnsContext context, QueryParameters p, IServiceProvider services, CancellationToken cancellationToken)
    {
        var name = SnsArn.Parse(p.Required("TopicArn"), "TopicArn", context).AsTopic("TopicArn");
        await TopicStore.DeleteAsync(services.GetRequiredService<PushGatewayDbContext>(), context.ProjectId, name, cancellationToken);
        return Result(context, null);
    }

    public static async Task<byte[]> ListAsync(SnsContext context, QueryParameters p, IServiceProvider services, CancellationToken cancellationToken)
    {
        var after = SnsActions.ReadNextToken(p);
        var db = services.GetRequiredService<PushGatewayDbContext>();
        var query = db.Topics.AsNoTracking().Where(t => t.ProjectId == context.ProjectId);
        if (after is { } last)
        {
            query = query.Where(t => t.Id > last);
        }

        var page = await query.OrderBy(t => t.Id).Take(SnsActions.PageSize + 1).ToListAsync(cancellationToken);
        var next = page.Count > SnsActions.PageSize ? Cursor.Encode(page[SnsActions.PageSize - 1].Id) : null;
        return Result(context, w =>
        {
            SnsXml.List(w, "Topics", page.Take(SnsActions.PageSize), (m, topic) => SnsXml.Element(m, "TopicArn", SnsArn.ForTopic(context, topic.Name)));
            SnsXml.ElementIf(w, "NextToken", next);
        });
    }

    public static async Task<byte[]> SubscribeAsync(SnsContext context, QueryParameters p, IServiceProvider services, CancellationToken cancellationToken)
    {
        var topicArn = p.Required("TopicArn");
        var protocol = p.Required("Protocol");
        var name = SnsArn.Parse(topicArn, "TopicArn", context).AsTopic("TopicArn");
        if (protocol != "application")
        {
            throw SnsException.InvalidParameter("Protocol", $"{protocol} is not supported: PushGateway delivers to platform endpoints only (protocol application)");
        }

        var endpointArn = p.Get("Endpoint") ?? throw SnsException.InvalidParameter("Endpoint", "An application subscription needs an endpoint ARN");
        var endpointId = SnsArn.Parse(endpointArn, "Endpoint", context).AsEndpoint("Endpoint");
        if (p.Map("Attributes") is { Count: > 0 })
        {
            throw SnsException.InvalidParameter("Attributes", "PushGateway subscriptions take no attributes");
        }

        var db = services.GetRequiredService<PushGatewayDbContext>();
        var topic = await TopicStore.FindAsync(db, context.ProjectId, name, cancellationToken) ?? throw SnsException.NotFound("Topic does not exist");
        if (!await TopicStore.SubscribeAsync(db, context.ProjectId, topic.Id, endpointId, services.GetRequiredService<TimeProvider>().UtcNow(), cancellationToken))
        {
            throw SnsException.InvalidParameter("Endpoint", $"Endpoint does not exist for endpoint arn{endpointArn}");
        }

        return Result(context, w => SnsXml.Element(w, "SubscriptionArn", SnsArn.ForSubscription(context, name, endpointId)));
    }

    public static async Task<byte[]> UnsubscribeAsync(SnsContext context, QueryParameters p, IServiceProvider services, CancellationToken cancellationToken)
    {
        var (name, endpointId) = SnsArn.Parse(p.Required("SubscriptionArn"), "SubscriptionArn", context).AsSubscription("SubscriptionArn");
        var db = services.GetRequiredService<PushGatewayDbContext>();
        if (await TopicStore.FindAsync(db, context.ProjectId, name, cancellationToken) is { } topic)
        {
            await TopicStore.UnsubscribeAsync(db, topic.Id, endpointId, cancellationToken);
        }

        return Result(context, null);
    }

    public static async Task<byte[]> ListSubscriptionsAsync(SnsContext context, QueryParameters p, IServiceProvider services, CancellationToken cancellationToken)
    {
        var name = SnsArn.Parse(p.Required("TopicArn"), "TopicArn", context).AsTopic("TopicArn");
        var after = SnsActions.ReadNextToken(p);
        var db = services.GetRequiredService<PushGatewayDbContext>();
        var topic = await TopicStore.FindAsync(db, context.ProjectId, name, cancellationToken) ?? throw SnsException.NotFound("Topic does not exist");
        var query = db.TopicSubscriptions.AsNoTracking().Where(s => s.TopicId == topic.Id);
        if (after is { } last)
        {
            query = query.Where(s => s.EndpointId > last);
        }

        var page = await query
            .Join(db.Endpoints, s => s.EndpointId, e => e.Id, (s, e) => e)
            .Join(db.Applications, e => e.ApplicationId, a => a.Id, (e, a) => new { EndpointId = e.Id, App = a })
            .OrderBy(x => x.EndpointId).Take(SnsActions.PageSize + 1)
            .ToListAsync(cancellationToken);
        var next = page.Count > SnsActions.PageSize ? Cursor.Encode(page[SnsActions.PageSize - 1].EndpointId) : null;
        return Result(context, w =>
        {
            SnsXml.List(w, "Subscriptions", page.Take(SnsActions.PageSize), (m, s) =>
            {
                SnsXml.Element(m, "SubscriptionArn", SnsArn.ForSubscription(context, name, s.EndpointId));
                SnsXml.Element(m, "Owner", context.Account);
                SnsXml.Element(m, "Protocol", "application");
                SnsXml.Element(m, "Endpoint", SnsArn.ForEndpoint(context, s.App, s.EndpointId));
                SnsXml.Element(m, "TopicArn", SnsArn.ForTopic(context, name));
            });
            SnsXml.ElementIf(w, "NextToken", next);
        });
    }

    private static byte[] Result(SnsContext context, Action<System.Xml.XmlWriter>? result) => SnsXml.Success(context.Action, context.RequestId, result);
}
