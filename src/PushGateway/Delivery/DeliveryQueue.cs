using Npgsql;
using NpgsqlTypes;
using PushGateway.Data;
using PushGateway.Events;

namespace PushGateway.Delivery;

/// <summary>
/// A delivery claimed by this worker, with its endpoint's current token (null when the endpoint is gone).
/// <see cref="Attempts"/> counts the attempt about to be made.
/// </summary>
internal sealed record ClaimedDelivery(
    long Id,
    Guid MessageId,
    Guid EndpointId,
    Guid ApplicationId,
    int Attempts,
    DateTimeOffset ExpiresAt,
    string? Token,
    bool EndpointEnabled);

/// <summary>
/// Where a worker's next claim starts in the queue's (next_attempt_at, id) order. It goes back to the start whenever a
/// claim comes back short and every few seconds, so rows behind it (a crashed worker's batch, skipped applications)
/// are found again.
/// </summary>
internal sealed class QueueCursor(TimeProvider time, TimeSpan rewindEvery)
{
    private long _rewoundAt = time.GetTimestamp();

    public DateTimeOffset After { get; private set; } = DateTimeOffset.MinValue;
    public long AfterId { get; private set; }

    public bool AtStart => After == DateTimeOffset.MinValue;

    public void Advance(DateTimeOffset at, long id)
    {
        After = at;
        AfterId = id;
    }

    /// <summary>Rewinds if the last claim was short or it has been a while.</summary>
    public void AfterClaim(int claimed, int limit)
    {
        if (claimed < limit || time.GetElapsedTime(_rewoundAt) > rewindEvery)
        {
            After = DateTimeOffset.MinValue;
            AfterId = 0;
            _rewoundAt = time.GetTimestamp();
        }
    }
}

/// <summary>
/// Deliveries claimed together: their rows stay locked (FOR UPDATE) by this batch's open transaction until all of them
/// have a result, which is then written and committed in the same transaction. Nobody else can take them meanwhile;
/// if this process dies, the transaction dies with it and the rows are due again at once.
/// </summary>
internal sealed class ClaimedBatch(NpgsqlConnection connection, NpgsqlTransaction transaction, List<ClaimedDelivery> items) : IAsyncDisposable
{
    private readonly DeliveryResult?[] _results = new DeliveryResult?[items.Count];
    private int _remaining = items.Count;

    public NpgsqlConnection Connection { get; } = connection;
    public NpgsqlTransaction Transaction { get; } = transaction;
    public List<ClaimedDelivery> Items { get; } = items;

    /// <summary>Stopwatch timestamps of the batch's life, for the debug timing log.</summary>
    public long ClaimedAt { get; set; }
    public long SentAt { get; set; }

    public IReadOnlyList<DeliveryResult> Results => _results!;

    /// <summary>Records one result; true when it was the last one the batch waited for.</summary>
    public bool Complete(int index, DeliveryResult result)
    {
        _results[index] = result;
        if (Interlocked.Decrement(ref _remaining) != 0)
        {
            return false;
        }

        SentAt = System.Diagnostics.Stopwatch.GetTimestamp();
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
    }
}

internal sealed record EndpointDisable(Guid EndpointId, string TokenSent, string Reason, DateTimeOffset? Timestamp);

internal sealed record ApplicationDisable(Guid ApplicationId, int CredentialsVersion, string Reason);

/// <summary>The new state of a claimed delivery, and what it does to its endpoint and application.</summary>
internal sealed record DeliveryResult(
    ClaimedDelivery Delivery,
    string State,
    int Attempts,
    DateTimeOffset NextAttemptAt,
    DateTimeOffset? LastAttemptAt,
    DateTimeOffset? CompletedAt,
    int? ProviderStatus,
    string? ProviderReason,
    string? ProviderId,
    EndpointDisable? DisableEndpoint = null,
    ApplicationDisable? DisableApplication = null)
{
    /// <summary>For metrics: the provider, and when the message was accepted.</summary>
    public string Platform { get; set; } = "unknown";
    public string? ProviderUniqueId { get; set; }
    public DateTimeOffset? AcceptedAt { get; set; }
}

/// <summary>
/// The durable queue in PostgreSQL. A claim takes due rows with SELECT … FOR UPDATE SKIP LOCKED in a transaction that
/// stays open while they are sent, so concurrent workers (in this process or other replicas) never take the same row,
/// and claiming writes nothing: no lease column to update, no index entries to add. The results are written in that
/// same transaction, which commits. A crashed worker's transaction is rolled back by PostgreSQL and its rows are due
/// again at once (sent twice only if they were in flight at the crash).
/// </summary>
internal sealed class DeliveryQueue(WorkerDatabase database)
{
    private readonly NpgsqlDataSource dataSource = database.DataSource;

    /// <summary>
    /// The claim: the CTE walks the queue's partial index in due order and locks what it takes; only then are the
    /// endpoints joined (for the current token).
    /// </summary>
    internal const string ClaimSql = """
        WITH claimed AS (
            SELECT id, message_id, endpoint_id, application_id, attempts, expires_at, next_attempt_at
            FROM deliveries
            WHERE state = 'pending' AND next_attempt_at <= @now AND (next_attempt_at, id) > (@after_at, @after_id)
              AND application_id <> ALL(@excluded)
            ORDER BY next_attempt_at, id
            LIMIT @limit
            FOR UPDATE SKIP LOCKED)
        SELECT c.id, c.message_id, c.endpoint_id, c.application_id, c.attempts + 1, c.expires_at, e.token, coalesce(e.enabled, false), c.next_attempt_at
        FROM claimed c LEFT JOIN endpoints e ON e.id = c.endpoint_id
        ORDER BY c.next_attempt_at, c.id
        """;

    /// <summary>A batch's results, matched to their rows by primary key.</summary>
    internal const string WriteResultsSql = """
        UPDATE deliveries d
        SET state = u.state, attempts = u.attempts, next_attempt_at = u.next_at, last_attempt_at = coalesce(u.last_at, d.last_attempt_at),
            completed_at = u.completed_at, provider_status = coalesce(u.status, d.provider_status),
            provider_reason = coalesce(u.reason, d.provider_reason), provider_id = coalesce(u.pid, d.provider_id),
            provider_unique_id = coalesce(u.uid, d.provider_unique_id)
        FROM unnest(@ids, @states, @attempts, @next, @last, @completed, @statuses, @reasons, @pids, @uids)
             AS u(id, state, attempts, next_at, last_at, completed_at, status, reason, pid, uid)
        WHERE d.id = u.id
        RETURNING d.id
        """;

    /// <summary>
    /// Claims up to <paramref name="limit"/> due deliveries after <paramref name="cursor"/> (in due order) in a new
    /// transaction; null when none are due there. The cursor matters: rows just completed leave dead entries at the
    /// front of the queue index until vacuum, and starting every claim from the front would step over all of them
    /// again and again during a large fan-out.
    /// </summary>
    public async Task<ClaimedBatch?> ClaimAsync(int limit, Guid[] excludedApplications, DateTimeOffset now, QueueCursor cursor, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        NpgsqlTransaction? transaction = null;
        try
        {
            transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using var command = new NpgsqlCommand(ClaimSql, connection, transaction);
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("after_at", cursor.After));
            command.Parameters.Add(new NpgsqlParameter<long>("after_id", cursor.AfterId));
            command.Parameters.Add(new NpgsqlParameter<Guid[]>("excluded", excludedApplications));
            command.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
            var claimed = new List<ClaimedDelivery>(limit);
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    claimed.Add(new ClaimedDelivery(
                        reader.GetInt64(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetGuid(3), reader.GetInt32(4),
                        reader.GetFieldValue<DateTimeOffset>(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetBoolean(7)));
                    cursor.Advance(reader.GetFieldValue<DateTimeOffset>(8), reader.GetInt64(0));
                }
            }

            if (claimed.Count == 0)
            {
                await transaction.DisposeAsync();
                await connection.DisposeAsync();
                return null;
            }

            return new ClaimedBatch(connection, transaction, claimed);
        }
        catch
        {
            if (transaction is not null)
            {
                await transaction.DisposeAsync();
            }

            await connection.DisposeAsync();
            throw;
        }
    }

    public async Task<Dictionary<Guid, MessageInfo>> LoadMessagesAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        var result = new Dictionary<Guid, MessageInfo>();
        await using var command = dataSource.CreateCommand("""
            SELECT id, expires_at, ttl_seconds, apns_payload, apns_push_type, apns_priority, apns_topic, collapse_key, fcm_message::text, created_at
            FROM messages WHERE id = ANY(@ids)
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", ids.ToArray()));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            Apns.ApnsPushTypes.TryParse(reader.IsDBNull(4) ? "alert" : reader.GetString(4), out var pushType);
            result[reader.GetGuid(0)] = new MessageInfo(
                reader.GetGuid(0),
                reader.GetFieldValue<DateTimeOffset>(9),
                reader.GetFieldValue<DateTimeOffset>(1),
                reader.GetInt32(2),
                reader.IsDBNull(3) ? [] : reader.GetFieldValue<byte[]>(3),
                pushType,
                reader.IsDBNull(5) ? 10 : reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                System.Text.Json.Nodes.JsonNode.Parse(reader.IsDBNull(8) ? "{}" : reader.GetString(8))!.AsObject());
        }

        return result;
    }

    /// <summary>
    /// Writes a batch's results in its transaction and commits: the delivery rows, the endpoint
    /// disables (with the 410-timestamp rule and only if the token is still the one that failed), the application
    /// disables (holding their pending deliveries), and the events they raise.
    /// </summary>
    public async Task<WriteSummary> CompleteAsync(ClaimedBatch batch, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = batch.Connection;
        var transaction = batch.Transaction;
        var results = batch.Results;
        var written = new HashSet<long>();
        await using (var update = new NpgsqlCommand(WriteResultsSql, connection, transaction))
        {
            update.Parameters.Add(new NpgsqlParameter<long[]>("ids", results.Select(r => r.Delivery.Id).ToArray()));
            update.Parameters.Add(new NpgsqlParameter<string[]>("states", results.Select(r => r.State).ToArray()));
            update.Parameters.Add(new NpgsqlParameter<int[]>("attempts", results.Select(r => r.Attempts).ToArray()));
            update.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("next", results.Select(r => r.NextAttemptAt).ToArray()));
            update.Parameters.Add(new NpgsqlParameter<DateTimeOffset?[]>("last", results.Select(r => r.LastAttemptAt).ToArray()));
            update.Parameters.Add(new NpgsqlParameter<DateTimeOffset?[]>("completed", results.Select(r => r.CompletedAt).ToArray()));
            update.Parameters.Add(new NpgsqlParameter<int?[]>("statuses", results.Select(r => r.ProviderStatus).ToArray()));
            update.Parameters.Add(new NpgsqlParameter("reasons", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = results.Select(r => Truncate(r.ProviderReason, 500)).ToArray() });
            update.Parameters.Add(new NpgsqlParameter("pids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = results.Select(r => Truncate(r.ProviderId, 255)).ToArray() });
            update.Parameters.Add(new NpgsqlParameter("uids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = results.Select(r => Truncate(r.ProviderUniqueId, 255)).ToArray() });
            await using var reader = await update.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                written.Add(reader.GetInt64(0));
            }
        }

        var mine = results.Where(r => written.Contains(r.Delivery.Id)).ToList();
        var summary = new WriteSummary(mine);
        var events = new List<OutboxEvent>();

        // Every endpoint this batch raises an event for is locked first, in id order, like every other change to an
        // endpoint: its events then follow (in sequence and in commit order) any change being committed to it right
        // now, and their snapshots show that change. Locking in one order also keeps two batches that disable the
        // same endpoints from deadlocking (which would roll a whole batch back and send it again).
        var eventEndpoints = mine.Where(r => r.DisableEndpoint is not null || r.State == DeliveryStates.Failed)
            .Select(r => r.Delivery.EndpointId).Distinct().Order().ToArray();
        if (eventEndpoints.Length > 0)
        {
            await using var lockEndpoints = new NpgsqlCommand(
                "SELECT id FROM endpoints WHERE id = ANY(@ids) ORDER BY id FOR NO KEY UPDATE", connection, transaction);
            lockEndpoints.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", eventEndpoints));
            await lockEndpoints.ExecuteNonQueryAsync(cancellationToken);
        }

        // Endpoint disables: once per endpoint, only if it still carries the token that failed, and for a 410 only if
        // the app has not confirmed the token again after the provider saw it die.
        var disabledEndpoints = new Dictionary<Guid, PlatformEndpoint>();
        foreach (var disable in mine.Where(r => r.DisableEndpoint is not null).Select(r => r.DisableEndpoint!).DistinctBy(d => d.EndpointId))
        {
            await using var command = new NpgsqlCommand("""
                UPDATE endpoints SET enabled = false, disabled_at = @now, disabled_reason = @reason, updated_at = @now
                WHERE id = @id AND enabled AND token = @token AND (@ts::timestamptz IS NULL OR token_updated_at <= @ts)
                RETURNING id, project_id, application_id, token, enabled, custom_user_data, user_id, created_at, updated_at,
                          token_updated_at, disabled_at, disabled_reason
                """, connection, transaction);
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
            command.Parameters.Add(new NpgsqlParameter<string>("reason", Truncate(disable.Reason, 500)!));
            command.Parameters.Add(new NpgsqlParameter<Guid>("id", disable.EndpointId));
            command.Parameters.Add(new NpgsqlParameter<string>("token", disable.TokenSent));
            command.Parameters.Add(new NpgsqlParameter("ts", NpgsqlDbType.TimestampTz) { Value = (object?)disable.Timestamp ?? DBNull.Value });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                var endpoint = ReadEndpoint(reader);
                disabledEndpoints[endpoint.Id] = endpoint;
                events.Add(EventOutbox.Create(EventTypes.EndpointUpdated, endpoint, endpoint.ProjectId, now));
                summary.EndpointsDisabled.Add((endpoint.Id, disable.TokenSent, disable.Reason));
            }
            else
            {
                summary.EndpointsKept.Add((disable.EndpointId, disable.TokenSent, disable.Reason));
            }
        }

        // deliveryFailure for every delivery that failed for good.
        var failed = mine.Where(r => r.State == DeliveryStates.Failed).ToList();
        if (failed.Count > 0)
        {
            var snapshots = new Dictionary<Guid, PlatformEndpoint>(disabledEndpoints);
            var missing = failed.Select(r => r.Delivery.EndpointId).Where(id => !snapshots.ContainsKey(id)).Distinct().ToArray();
            if (missing.Length > 0)
            {
                await using var command = new NpgsqlCommand("""
                    SELECT id, project_id, application_id, token, enabled, custom_user_data, user_id, created_at, updated_at,
                           token_updated_at, disabled_at, disabled_reason
                    FROM endpoints WHERE id = ANY(@ids)
                    """, connection, transaction);
                command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", missing));
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var endpoint = ReadEndpoint(reader);
                    snapshots[endpoint.Id] = endpoint;
                }
            }

            foreach (var r in failed)
            {
                if (snapshots.TryGetValue(r.Delivery.EndpointId, out var endpoint))
                {
                    events.Add(EventOutbox.Create(EventTypes.DeliveryFailure, endpoint, endpoint.ProjectId, now,
                        new DeliveryFailureInfo(r.ProviderReason ?? "failed", r.ProviderStatus, r.Delivery.MessageId)));
                }
            }
        }

        // Application disables: only if the credentials that failed are still the current ones (not rotated since).
        foreach (var disable in mine.Where(r => r.DisableApplication is not null).Select(r => r.DisableApplication!).DistinctBy(d => d.ApplicationId))
        {
            await using var command = new NpgsqlCommand("""
                UPDATE applications SET enabled = false, disabled_at = @now, disabled_reason = @reason, updated_at = @now
                WHERE id = @id AND enabled AND credentials_version = @version
                """, connection, transaction);
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
            command.Parameters.Add(new NpgsqlParameter<string>("reason", Truncate(disable.Reason, 500)!));
            command.Parameters.Add(new NpgsqlParameter<Guid>("id", disable.ApplicationId));
            command.Parameters.Add(new NpgsqlParameter<int>("version", disable.CredentialsVersion));
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                summary.ApplicationsDisabled.Add((disable.ApplicationId, disable.Reason));
            }

            // Whether or not we were the ones to disable it, its waiting deliveries wait for the fix. Rows other
            // batches hold are skipped: they come back with the same credential failure and are held then.
            await using var hold = new NpgsqlCommand("""
                UPDATE deliveries SET state = 'held'
                WHERE id IN (SELECT d.id FROM deliveries d JOIN applications a ON a.id = d.application_id
                             WHERE a.id = @id AND NOT a.enabled AND d.state = 'pending' AND d.next_attempt_at <= @now
                             FOR UPDATE OF d SKIP LOCKED)
                """, connection, transaction);
            hold.Parameters.Add(new NpgsqlParameter<Guid>("id", disable.ApplicationId));
            hold.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
            await hold.ExecuteNonQueryAsync(cancellationToken);
        }

        if (events.Count > 0)
        {
            await InsertEventsAsync(connection, transaction, events, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return summary;
    }

    /// <summary>Held deliveries: released when their application works again, expired when their TTL is over.</summary>
    public async Task<(int Released, int Expired)> SweepAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var release = dataSource.CreateCommand("""
            UPDATE deliveries d SET state = 'pending', next_attempt_at = @now
            FROM applications a
            WHERE d.state = 'held' AND a.id = d.application_id AND a.enabled AND d.expires_at > @now
            """);
        release.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        var released = await release.ExecuteNonQueryAsync(cancellationToken);

        await using var expire = dataSource.CreateCommand("""
            UPDATE deliveries SET state = 'expired', completed_at = @now, next_attempt_at = @now
            WHERE state = 'held' AND (expires_at <= @now OR NOT EXISTS (SELECT 1 FROM applications a WHERE a.id = application_id))
            """);
        expire.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        var expired = await expire.ExecuteNonQueryAsync(cancellationToken);
        return (released, expired);
    }

    private static async Task InsertEventsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<OutboxEvent> events, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO events (id, project_id, application_id, endpoint_id, type, payload, created_at, state, attempts, next_attempt_at)
            SELECT u.id, u.project_id, u.application_id, u.endpoint_id, u.type, u.payload::json, u.created_at, 'pending', 0, u.created_at
            FROM unnest(@ids, @projects, @applications, @endpoints, @types, @payloads, @created) AS u(id, project_id, application_id, endpoint_id, type, payload, created_at)
            WHERE EXISTS (SELECT 1 FROM applications a WHERE a.id = u.application_id)
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", events.Select(e => e.Id).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("projects", events.Select(e => e.ProjectId).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("applications", events.Select(e => e.ApplicationId).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("endpoints", events.Select(e => e.EndpointId ?? Guid.Empty).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("types", events.Select(e => e.Type).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("payloads", events.Select(e => e.Payload).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("created", events.Select(e => e.CreatedAt).ToArray()));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static PlatformEndpoint ReadEndpoint(NpgsqlDataReader reader) => new()
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

    private static string? Truncate(string? value, int max) => value is null || value.Length <= max ? value : value[..max];
}

/// <summary>
/// The workers' own connection pool. Its commits are synchronous like the API's: a batch's results, once committed,
/// survive a database crash, so a crash re-sends only what was in flight. (Asynchronous commit was tried: it lost up
/// to a few hundred milliseconds of committed results in the database-restart test, which were then sent again, and
/// the benchmark showed no clear gain; one WAL flush per batch of up to 1,000 results costs little.)
/// </summary>
/// <remarks>
/// Every statement the workers run is a keyed lookup (the queue's partial indexes, primary keys), so their sessions
/// also tell the planner not to prefer sequential or bitmap scans. Without that, an idle gateway polling an empty
/// queue leaves PostgreSQL with a generic plan for the prepared claim that was made for an empty table; when a
/// 100,000-row fan-out then arrives, every claim scans and sorts the whole table (on disk), and result batches are
/// matched with a hash join over it, until the next ANALYZE. The benchmark measured 30 to 70 ms per claim that way,
/// growing with the table. QueuePlanTests keeps the plans honest.
/// </remarks>
internal sealed class WorkerDatabase(NpgsqlDataSource dataSource) : IAsyncDisposable
{
    public NpgsqlDataSource DataSource { get; } = dataSource;

    public static WorkerDatabase Create(string connectionString, int maxConnections = 20)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            ApplicationName = "pushgateway-worker",
            // The workers run the same few statements thousands of times: let Npgsql prepare them once per connection.
            MaxAutoPrepare = 16,
            NoResetOnClose = true,
        };
        // One connection per open batch plus a few for the sweeper and lookups; less if the operator asked for less.
        builder.MaxPoolSize = Math.Min(builder.MaxPoolSize, maxConnections);
        builder.MinPoolSize = Math.Min(builder.MinPoolSize, builder.MaxPoolSize);
        // After any options the operator's connection string already carries (search_path, …).
        builder.Options = $"{builder.Options} -c enable_seqscan=off -c enable_bitmapscan=off".TrimStart();
        return new WorkerDatabase(new NpgsqlDataSourceBuilder(builder.ConnectionString).Build());
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}

internal sealed class WriteSummary(List<DeliveryResult> written)
{
    public List<DeliveryResult> Written { get; } = written;
    public List<(Guid EndpointId, string Token, string Reason)> EndpointsDisabled { get; } = [];
    public List<(Guid EndpointId, string Token, string Reason)> EndpointsKept { get; } = [];
    public List<(Guid ApplicationId, string Reason)> ApplicationsDisabled { get; } = [];
}
