using Npgsql;
using PushGateway.Data;
using PushGateway.Events;

namespace PushGateway.Delivery;

/// <summary>Disables stale endpoints of one platform in bounded batches, each with its <c>endpointUpdated</c> event.</summary>
internal sealed class StaleEndpoints(NpgsqlDataSource dataSource, EventSignal eventSignal)
{
    /// <summary>One batch: up to <paramref name="limit"/> enabled endpoints of <paramref name="platform"/> confirmed before <paramref name="cutoff"/>.</summary>
    public async Task<int> DisableBatchAsync(string platform, DateTimeOffset cutoff, int limit, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var events = new List<OutboxEvent>();
        await using (var command = new NpgsqlCommand("""
            UPDATE endpoints e SET enabled = false, disabled_at = @now, disabled_reason = @reason, updated_at = @now
            WHERE e.id IN (SELECT s.id FROM endpoints s JOIN applications a ON a.id = s.application_id
                           WHERE a.platform = @platform AND s.enabled AND s.token_updated_at < @cutoff
                           LIMIT @limit FOR UPDATE OF s SKIP LOCKED)
            RETURNING e.id, e.project_id, e.application_id, e.token, e.enabled, e.custom_user_data, e.user_id, e.created_at, e.updated_at,
                      e.token_updated_at, e.disabled_at, e.disabled_reason
            """, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
            command.Parameters.Add(new NpgsqlParameter<string>("reason", StaleTokenPolicy.DisabledReason));
            command.Parameters.Add(new NpgsqlParameter<string>("platform", platform));
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("cutoff", cutoff));
            command.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var endpoint = ResultStore.ReadEndpoint(reader);
                events.Add(EventOutbox.Create(EventTypes.EndpointUpdated, endpoint, endpoint.ProjectId, now));
            }
        }

        if (events.Count > 0)
        {
            await ResultStore.InsertEventsAsync(connection, transaction, events, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        if (events.Count > 0)
        {
            eventSignal.Notify();
        }

        return events.Count;
    }
}
