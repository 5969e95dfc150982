using Npgsql;
using NpgsqlTypes;
using PushGateway.Data;

namespace PushGateway.Events;

/// <summary>An event this dispatcher claimed for sending, with its application's webhook settings.</summary>
internal sealed record ClaimedEvent(
    long Sequence,
    Guid Id,
    Guid ApplicationId,
    Guid? EndpointId,
    string Type,
    byte[] Payload,
    DateTimeOffset CreatedAt,
    int Attempts,
    DateTimeOffset Lease,
    string Url,
    byte[] SecretCiphertext);

internal sealed record ClaimResult(List<ClaimedEvent> Send, int Skipped, int Parked, int Examined);

/// <summary>The new state of a claimed event.</summary>
internal sealed record EventResult(
    ClaimedEvent Event,
    string State,
    int Attempts,
    DateTimeOffset NextAttemptAt,
    DateTimeOffset? CompletedAt,
    string? Error);

/// <summary>
/// The <c>events</c> outbox as a queue, on the dispatcher's own small connection pool. Ordering per endpoint is
/// kept by sending only heads of line: an event goes out only when no earlier sendable event of its endpoint is still
/// pending (in flight, or waiting for its retry). Events behind a head are parked (their <c>next_attempt_at</c>
/// pushed past the head's), so a long line behind a dead webhook is not re-examined on every poll; finishing a head
/// wakes the next one at once. Claims lease rows by moving <c>next_attempt_at</c> forward under FOR UPDATE SKIP
/// LOCKED, so replicas never send the same event at the same time and a crashed process's claims come back.
/// </summary>
internal sealed class EventStore : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;

    public EventStore(IConfiguration configuration, Microsoft.Extensions.Options.IOptions<EventsOptions> options)
    {
        var builder = new NpgsqlConnectionStringBuilder(configuration.GetConnectionString("PushGateway"))
        {
            MaxPoolSize = options.Value.MaxDatabaseConnections,
            ApplicationName = "PushGateway webhooks",
            // Nothing here sets session state (SET LOCAL only, no LISTEN, no session locks): no DISCARD ALL before the
            // next command of every connection taken from the pool.
            NoResetOnClose = true,
        };
        _dataSource = new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
    }

    /// <summary>
    /// Examines up to <paramref name="scan"/> due pending events (oldest due first) and, in one statement: marks
    /// <c>skipped</c> those whose application has no webhook or does not list their type; parks those behind an earlier
    /// pending event of the same endpoint; leases the heads of line, at most <paramref name="defaultQuota"/> per
    /// application (or its entry in <paramref name="quotas"/>), and returns them. Applications in
    /// <paramref name="full"/> are not looked at.
    /// </summary>
    public async Task<ClaimResult> ClaimAsync(
        int scan, int defaultQuota, IReadOnlyDictionary<Guid, int> quotas, Guid[] full, DateTimeOffset now, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        var lease = now + leaseDuration;
        await using var command = _dataSource.CreateCommand("""
            WITH due AS (
                SELECT sequence, endpoint_id, application_id, type, next_attempt_at
                FROM events
                WHERE state = 'pending' AND next_attempt_at <= @now AND application_id <> ALL(@full)
                ORDER BY next_attempt_at, sequence
                LIMIT @scan
                FOR UPDATE SKIP LOCKED),
            classified AS (
                SELECT d.sequence, d.application_id, d.next_attempt_at AS due_at, a.events_url AS url,
                       a.events_secret_ciphertext AS secret, b.next_at AS blocker_at,
                       CASE WHEN a.events_url IS NULL OR a.events_secret_ciphertext IS NULL OR NOT (d.type = ANY(a.events_types)) THEN 'skip'
                            WHEN b.next_at IS NOT NULL THEN 'park'
                            ELSE 'send' END AS action
                FROM due d
                JOIN applications a ON a.id = d.application_id
                -- The earliest sendable event of the same endpoint that is still pending, if any: it goes first.
                LEFT JOIN LATERAL (
                    SELECT p.next_attempt_at AS next_at FROM events p
                    WHERE p.endpoint_id = d.endpoint_id AND p.state = 'pending' AND p.sequence < d.sequence
                      AND p.type = ANY(a.events_types)
                    ORDER BY p.sequence LIMIT 1) b ON true),
            decided AS (
                SELECT c.sequence, c.url, c.secret, c.blocker_at,
                       CASE WHEN c.action = 'send'
                                 AND row_number() OVER (PARTITION BY c.application_id, c.action ORDER BY c.due_at, c.sequence) > coalesce(q.quota, @quota)
                            THEN 'leave' ELSE c.action END AS action
                FROM classified c
                LEFT JOIN unnest(@quota_apps, @quota_values) AS q(application_id, quota) ON q.application_id = c.application_id)
            UPDATE events e SET
                state = CASE WHEN d.action = 'skip' THEN 'skipped' ELSE e.state END,
                completed_at = CASE WHEN d.action = 'skip' THEN @now ELSE e.completed_at END,
                -- A parked event is looked at again one lease after its head is due (finishing the head wakes it sooner).
                next_attempt_at = CASE d.action WHEN 'send' THEN @lease
                                                WHEN 'park' THEN greatest(d.blocker_at, @now) + @lease_duration
                                                ELSE e.next_attempt_at END,
                attempts = CASE WHEN d.action = 'send' THEN e.attempts + 1 ELSE e.attempts END
            FROM decided d
            WHERE e.sequence = d.sequence AND d.action <> 'leave'
            RETURNING d.action, e.sequence, e.id, e.application_id, e.endpoint_id, e.type,
                      CASE WHEN d.action = 'send' THEN e.payload::text END, e.created_at, e.attempts,
                      CASE WHEN d.action = 'send' THEN d.url END, CASE WHEN d.action = 'send' THEN d.secret END
            """);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("lease", lease));
        command.Parameters.Add(new NpgsqlParameter<TimeSpan>("lease_duration", leaseDuration));
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("full", full));
        command.Parameters.Add(new NpgsqlParameter<int>("scan", scan));
        command.Parameters.Add(new NpgsqlParameter<int>("quota", defaultQuota));
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("quota_apps", quotas.Keys.ToArray()));
        command.Parameters.Add(new NpgsqlParameter<int[]>("quota_values", quotas.Values.ToArray()));

        var send = new List<ClaimedEvent>();
        int skipped = 0, parked = 0;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            switch (reader.GetString(0))
            {
                case "skip":
                    skipped++;
                    break;
                case "park":
                    parked++;
                    break;
                default:
                    send.Add(new ClaimedEvent(
                        reader.GetInt64(1), reader.GetGuid(2), reader.GetGuid(3), reader.IsDBNull(4) ? null : reader.GetGuid(4), reader.GetString(5),
                        System.Text.Encoding.UTF8.GetBytes(reader.GetString(6)), reader.GetFieldValue<DateTimeOffset>(7), reader.GetInt32(8), lease,
                        reader.GetString(9), reader.GetFieldValue<byte[]>(10)));
                    break;
            }
        }

        return new ClaimResult(send, skipped, parked, send.Count + skipped + parked);
    }

    /// <summary>
    /// Writes results in one transaction, each only if the row is still under the lease it was claimed with (a row
    /// whose lease ran out and was claimed again belongs to the new claim). For every endpoint whose event finished,
    /// the next event in its line is woken. Returns the results that were written.
    /// </summary>
    public async Task<List<EventResult>> WriteAsync(IReadOnlyList<EventResult> results, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var written = new HashSet<long>();
        await using (var update = new NpgsqlCommand("""
            UPDATE events e
            SET state = u.state, attempts = u.attempts, next_attempt_at = u.next_at, completed_at = u.completed_at,
                last_error = coalesce(u.error, e.last_error)
            FROM unnest(@sequences, @leases, @states, @attempts, @next, @completed, @errors)
                 AS u(sequence, lease, state, attempts, next_at, completed_at, error)
            WHERE e.sequence = u.sequence AND e.state = 'pending' AND e.next_attempt_at = u.lease
            RETURNING e.sequence
            """, connection, transaction))
        {
            update.Parameters.Add(new NpgsqlParameter<long[]>("sequences", results.Select(r => r.Event.Sequence).ToArray()));
            update.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("leases", results.Select(r => r.Event.Lease).ToArray()));
            update.Parameters.Add(new NpgsqlParameter<string[]>("states", results.Select(r => r.State).ToArray()));
            update.Parameters.Add(new NpgsqlParameter<int[]>("attempts", results.Select(r => r.Attempts).ToArray()));
            update.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("next", results.Select(r => r.NextAttemptAt).ToArray()));
            update.Parameters.Add(new NpgsqlParameter<DateTimeOffset?[]>("completed", results.Select(r => r.CompletedAt).ToArray()));
            update.Parameters.Add(new NpgsqlParameter("errors", NpgsqlDbType.Array | NpgsqlDbType.Text)
            {
                Value = results.Select(r => r.Error is { Length: > 1000 } e ? e[..1000] : r.Error).ToArray(),
            });
            await using var reader = await update.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                written.Add(reader.GetInt64(0));
            }
        }

        var mine = results.Where(r => written.Contains(r.Event.Sequence)).ToList();
        var finished = mine.Where(r => r.State != EventStates.Pending && r.Event.EndpointId is not null).Select(r => r.Event.EndpointId!.Value).Distinct().ToArray();
        if (finished.Length > 0)
        {
            // Only a never-attempted event can be parked (a leased one has attempts > 0), so this cannot cut a lease short.
            await using var wake = new NpgsqlCommand("""
                UPDATE events e SET next_attempt_at = @now
                FROM (SELECT DISTINCT ON (endpoint_id) sequence FROM events
                      WHERE state = 'pending' AND endpoint_id = ANY(@endpoints)
                      ORDER BY endpoint_id, sequence) head
                WHERE e.sequence = head.sequence AND e.state = 'pending' AND e.attempts = 0 AND e.next_attempt_at > @now
                """, connection, transaction);
            wake.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
            wake.Parameters.Add(new NpgsqlParameter<Guid[]>("endpoints", finished));
            await wake.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return mine;
    }

    /// <summary>Deletes up to <paramref name="batch"/> delivered or skipped events created before <paramref name="cutoff"/>.</summary>
    public async Task<int> DeleteCompletedAsync(DateTimeOffset cutoff, int batch, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            DELETE FROM events WHERE sequence IN (
                SELECT sequence FROM events
                WHERE state IN ('delivered', 'skipped') AND created_at < @cutoff
                LIMIT @batch)
            """);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("cutoff", cutoff));
        command.Parameters.Add(new NpgsqlParameter<int>("batch", batch));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
