using Microsoft.EntityFrameworkCore;
using PushGateway.Data;

namespace PushGateway.Topics;

/// <summary>The topic writes the REST routes and the SNS facade share.</summary>
internal static class TopicStore
{
    /// <summary>Creates the topic unless it exists; returns it and whether this call created it. The name is already valid.</summary>
    public static async Task<(Topic Topic, bool Created)> EnsureAsync(PushGatewayDbContext db, Guid projectId, string name, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var inserted = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO topics (id, project_id, name, created_at) VALUES ({Guid.CreateVersion7()}, {projectId}, {name}, {now})
            ON CONFLICT (project_id, name) DO NOTHING
            """, cancellationToken);
        var topic = await db.Topics.AsNoTracking().FirstAsync(t => t.ProjectId == projectId && t.Name == name, cancellationToken);
        return (topic, inserted == 1);
    }

    public static async Task<bool> DeleteAsync(PushGatewayDbContext db, Guid projectId, string name, CancellationToken cancellationToken) =>
        TopicsEndpoints.IsValidName(name)
        && await db.Topics.Where(t => t.ProjectId == projectId && t.Name == name).ExecuteDeleteAsync(cancellationToken) > 0;

    public static Task<Topic?> FindAsync(PushGatewayDbContext db, Guid projectId, string name, CancellationToken cancellationToken) =>
        TopicsEndpoints.IsValidName(name)
            ? db.Topics.AsNoTracking().FirstOrDefaultAsync(t => t.ProjectId == projectId && t.Name == name, cancellationToken)
            : Task.FromResult<Topic?>(null);

    /// <summary>Subscribes (idempotent); false when the endpoint does not exist in the project.</summary>
    public static async Task<bool> SubscribeAsync(PushGatewayDbContext db, Guid projectId, Guid topicId, Guid endpointId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The endpoint must belong to the same project; the insert only happens when it does.
        var rows = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO topic_subscriptions (topic_id, endpoint_id, created_at)
            SELECT {topicId}, e.id, {now} FROM endpoints e WHERE e.id = {endpointId} AND e.project_id = {projectId}
            ON CONFLICT DO NOTHING
            """, cancellationToken);
        return rows > 0 || await db.Endpoints.AnyAsync(e => e.Id == endpointId && e.ProjectId == projectId, cancellationToken);
    }

    public static Task<int> UnsubscribeAsync(PushGatewayDbContext db, Guid topicId, Guid endpointId, CancellationToken cancellationToken) =>
        db.TopicSubscriptions.Where(s => s.TopicId == topicId && s.EndpointId == endpointId).ExecuteDeleteAsync(cancellationToken);
}
