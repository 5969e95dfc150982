using Npgsql;
using PushGateway.Data;
using PushGateway.Messages;

namespace PushGateway.Delivery;

/// <summary>
/// The durable queue in PostgreSQL, one small method per SQL step. A claim picks due rows with
/// <c>FOR UPDATE SKIP LOCKED</c> and commits a lease on them at once (owner, <c>leased_until</c>, and
/// <c>next_attempt_at</c> moved to the lease's end, with the attempt counted), so no transaction stays open while they
/// are sent. Several workers and replicas never take the same row; a crashed worker's rows are due again when their
/// lease runs out. Results are written by <see cref="ResultStore"/>, guarded by the lease.
/// </summary>
internal sealed class DeliveryQueue(WorkerDatabase database)
{
    private readonly NpgsqlDataSource dataSource = database.DataSource;

    /// <summary>
    /// The claim: <c>picked</c> walks the queue's partial index in due order and locks what it takes; the update leases
    /// those rows, found by key (worker sessions plan every statement for its parameters and the table as it is now,
    /// <c>plan_cache_mode = force_custom_plan</c>, never with a generic plan made when the table was empty); only then
    /// are the endpoints joined (for the current token).
    /// </summary>
    internal const string ClaimSql = """
        WITH picked AS (
            SELECT id, next_attempt_at
            FROM deliveries
            WHERE state = 'pending' AND next_attempt_at <= @now AND (next_attempt_at, id) > (@after_at, @after_id)
              AND application_id <> ALL(@excluded)
            ORDER BY next_attempt_at, id
            LIMIT @limit
            FOR UPDATE SKIP LOCKED),
        leased AS (
            UPDATE deliveries d
            SET attempts = d.attempts + 1, next_attempt_at = @leased_until, leased_until = @leased_until, lease_owner = @owner
            FROM picked p
            WHERE d.id = p.id
            RETURNING d.id, d.message_id, d.endpoint_id, d.application_id, d.attempts, d.expires_at, p.next_attempt_at AS due_at)
        SELECT c.id, c.message_id, c.endpoint_id, c.application_id, c.attempts, c.expires_at, e.token, coalesce(e.enabled, false), c.due_at,
               e.token_updated_at
        FROM leased c LEFT JOIN endpoints e ON e.id = c.endpoint_id
        ORDER BY c.due_at, c.id
        """;

    /// <summary>
    /// Leases up to <paramref name="limit"/> due deliveries after <paramref name="cursor"/> (in due order) until
    /// <paramref name="leasedUntil"/>, committed before it returns; empty when none are due there. The cursor matters:
    /// rows just leased or completed leave dead entries at the front of the queue index until vacuum, and starting every
    /// claim from the front would step over all of them again and again during a large fan-out.
    /// </summary>
    public async Task<List<ClaimedDelivery>> ClaimAsync(int limit, Guid[] excludedApplications, DateTimeOffset now, DateTimeOffset leasedUntil, Guid owner,
        QueueCursor cursor, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(ClaimSql);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("after_at", cursor.After));
        command.Parameters.Add(new NpgsqlParameter<long>("after_id", cursor.AfterId));
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("excluded", excludedApplications));
        command.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("leased_until", leasedUntil));
        command.Parameters.Add(new NpgsqlParameter<Guid>("owner", owner));
        var claimed = new List<ClaimedDelivery>(limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new ClaimedDelivery(
                reader.GetInt64(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetGuid(3), reader.GetInt32(4),
                reader.GetFieldValue<DateTimeOffset>(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetBoolean(7), leasedUntil,
                reader.IsDBNull(9) ? null : reader.GetFieldValue<DateTimeOffset>(9)));
            cursor.Advance(reader.GetFieldValue<DateTimeOffset>(8), reader.GetInt64(0));
        }

        return claimed;
    }

    /// <summary>
    /// Gives leased rows back unsent (the claim's attempt taken back), due at once: used when the payloads could not
    /// be loaded after a claim. Rows whose lease has passed to someone else are left alone.
    /// </summary>
    public async Task ReleaseAsync(IReadOnlyCollection<ClaimedDelivery> claimed, Guid owner, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE deliveries d SET attempts = d.attempts - 1, next_attempt_at = @now, leased_until = NULL, lease_owner = NULL
            FROM unnest(@ids, @attempts) AS u(id, attempts)
            WHERE d.id = u.id AND CASE WHEN d.lease_owner = @owner THEN d.attempts = u.attempts ELSE false END
            """);
        command.Parameters.Add(new NpgsqlParameter<long[]>("ids", claimed.Select(c => c.Id).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<int[]>("attempts", claimed.Select(c => c.Attempts).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<Guid>("owner", owner));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// A delivery whose result could not be recorded even on its own: it stays pending, due again only at
    /// <paramref name="dueAt"/> (a backoff, never at once), with a fixed reason on its receipt.
    /// </summary>
    public async Task<bool> ParkAsync(ClaimedDelivery delivery, Guid owner, DateTimeOffset dueAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE deliveries
            SET next_attempt_at = @due, leased_until = NULL, lease_owner = NULL, last_attempt_at = @now,
                provider_status = NULL, provider_reason = 'internal: the result could not be recorded'
            WHERE id = @id AND lease_owner = @owner AND attempts = @attempts AND state = 'pending'
            """);
        command.Parameters.Add(new NpgsqlParameter<long>("id", delivery.Id));
        command.Parameters.Add(new NpgsqlParameter<Guid>("owner", owner));
        command.Parameters.Add(new NpgsqlParameter<int>("attempts", delivery.Attempts));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("due", dueAt));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
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

        // Counted in the same statement (so in the same transaction), once per message.
        await using var expire = dataSource.CreateCommand($"""
            WITH expired AS (
                UPDATE deliveries SET state = 'expired', completed_at = @now, next_attempt_at = @now
                WHERE state = 'held' AND (expires_at <= @now OR NOT EXISTS (SELECT 1 FROM applications a WHERE a.id = application_id))
                RETURNING message_id),
            counted AS (
                INSERT INTO message_counts (message_id, slot, delivered, failed, expired, skipped, retried, last_completed_at)
                SELECT e.message_id, {MessageCounters.SlotSql}, 0, 0, count(*), 0, 0, @now
                FROM expired e WHERE EXISTS (SELECT 1 FROM messages m WHERE m.id = e.message_id AND {MessageCounters.CountedSql})
                GROUP BY e.message_id ORDER BY e.message_id
                {MessageCounters.AddOnConflictSql})
            SELECT count(*)::int FROM expired
            """);
        expire.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        var expired = (int)(await expire.ExecuteScalarAsync(cancellationToken))!;
        return (released, expired);
    }
}
