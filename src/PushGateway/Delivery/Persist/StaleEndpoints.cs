using Npgsql;
using PushGateway.Data;
using PushGateway.Events;

namespace PushGateway.Delivery;

/// <summary>Disables stale endpoints of one platform in bounded batches, each with its <c>endpointUpdated</c> event.</summary>
internal sealed class StaleEndpoints(NpgsqlDataSource dataSource)
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
                var endpoint = new PlatformEndpoint
                {
                    Id = reader.GetGuid(0),
                    ProjectId = reader.GetGuid(1),
                    ApplicationId = reader.GetGuid(2),
                    Token = reader.GetString(3),
                    Enabled = reader.GetBoolean(4),
                    CustomUserData = reader.IsDBNull(5) ? null : reader.GetString(5),
                    UserId = reader.IsDBNull(6) ? null : reader.GetString(6),
                    CreatedAt = reader.GetFieldValue<DateTimeOffset>(7),
                    UpdatedAt = reader.GetFieldValue<DateTimeOffset>(8),
                    TokenUpdatedAt = reader.GetFieldValue<DateTimeOffset>(9),
                    DisabledAt = reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10),
                    DisabledReason = reader.IsDBNull(11) ? null : reader.GetString(11),
                };
                events.Add(EventOutbox.Create(EventTypes.EndpointUpdated, endpoint, endpoint.ProjectId, now));
            }
        }

        foreach (var e in events)
        {
            await using var insert = new NpgsqlCommand("""
                INSERT INTO events (id, project_id, application_id, endpoint_id, type, payload, created_at, state, attempts, next_attempt_at)
                VALUES (@id, @project, @app, @endpoint, @type, @payload::json, @now, 'pending', 0, @now)
                """, connection, transaction);
            insert.Parameters.Add(new NpgsqlParameter<Guid>("id", e.Id));
            insert.Parameters.Add(new NpgsqlParameter<Guid>("project", e.ProjectId));
            insert.Parameters.Add(new NpgsqlParameter<Guid>("app", e.ApplicationId));
            insert.Parameters.Add(new NpgsqlParameter<Guid>("endpoint", e.EndpointId!.Value));
            insert.Parameters.Add(new NpgsqlParameter<string>("type", e.Type));
            insert.Parameters.Add(new NpgsqlParameter<string>("payload", e.Payload));
            insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return events.Count;
    }
}
