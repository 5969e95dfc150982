using Npgsql;

namespace PushGateway.Messages;

/// <summary>What one expansion transaction did for one message.</summary>
/// <param name="Inserted">Deliveries inserted by this batch (pending and skipped).</param>
/// <param name="Pending">Of those, the ones queued for sending.</param>
/// <param name="Done">This batch was the message's last: its target count is known.</param>
/// <param name="TargetCount">Deliveries of the message so far (all of them when <paramref name="Done"/>).</param>
internal sealed record ExpansionBatch(Guid MessageId, int Inserted, int Pending, bool Done, long TargetCount, int Batches);

/// <summary>
/// The expansion's statements. One transaction per batch: lock one expansion row no other replica holds (SKIP
/// LOCKED), insert the deliveries of the next endpoints after its cursor, add them to the message (target count,
/// delivery id range, skipped count) and move the cursor, or delete the row after the last batch. The cursor and the
/// deliveries commit together, so a crash loses a whole batch or none of it; the cursor update also checks the value
/// the batch started from, so a batch that somehow raced another rolls back instead of inserting endpoints twice.
/// </summary>
internal sealed class ExpansionStore(NpgsqlDataSource dataSource)
{
    /// <summary>Takes turns: the expansion that waited longest since its last batch goes next.</summary>
    internal const string ClaimSql = """
        SELECT x.message_id, m.project_id, m.target_kind, x.scope_id, x.user_ids, x.after, x.batches, m.expires_at, m.target_count
        FROM message_expansions x JOIN messages m ON m.id = x.message_id
        ORDER BY x.updated_at, x.message_id
        LIMIT 1
        FOR UPDATE OF x SKIP LOCKED
        """;

    private sealed record Claimed(Guid MessageId, Guid ProjectId, FanOutTarget Target, Guid After, int Batches, DateTimeOffset ExpiresAt, int TargetCount);

    private sealed record Inserted(int Count, int Skipped, Guid Last, long FirstId, long LastId);

    /// <summary>Expands the next batch of one message; null when no expansion is waiting (or all are being expanded elsewhere).</summary>
    public async Task<ExpansionBatch?> ExpandNextAsync(int batchSize, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var claimed = await ClaimAsync(connection, transaction, cancellationToken);
        if (claimed is null)
        {
            await transaction.CommitAsync(cancellationToken);
            return null;
        }

        var inserted = await InsertBatchAsync(connection, transaction, claimed, batchSize, now, cancellationToken);
        if (inserted.Count > 0)
        {
            await AddToMessageAsync(connection, transaction, claimed.MessageId, inserted, cancellationToken);
            await MessageCounters.AddAsync(connection, transaction,
                [new CountDelta(claimed.MessageId, 0, 0, 0, inserted.Skipped, 0, inserted.Skipped > 0 ? now : null)], cancellationToken);
        }

        var done = inserted.Count < batchSize;
        await MoveCursorAsync(connection, transaction, claimed, done ? null : inserted.Last, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new ExpansionBatch(claimed.MessageId, inserted.Count, inserted.Count - inserted.Skipped, done,
            claimed.TargetCount + inserted.Count, claimed.Batches + 1);
    }

    /// <summary>
    /// Due deliveries nobody has claimed yet, counted up to <paramref name="limit"/> along the queue index (leased rows
    /// are due only when their lease ends, so they are not counted).
    /// </summary>
    public async Task<int> DueBacklogAsync(int limit, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT count(*)::int FROM (
                SELECT 1 FROM deliveries WHERE state = 'pending' AND next_attempt_at <= @now ORDER BY next_attempt_at, id LIMIT @limit) due
            """);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        command.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<Claimed?> ClaimAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(ClaimSql, connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var target = new FanOutTarget(reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetGuid(3), reader.IsDBNull(4) ? null : reader.GetFieldValue<string[]>(4));
        return new Claimed(reader.GetGuid(0), reader.GetGuid(1), target, reader.GetGuid(5), reader.GetInt32(6), reader.GetFieldValue<DateTimeOffset>(7), reader.GetInt32(8));
    }

    /// <summary>
    /// One delivery for each of the next <paramref name="batchSize"/> target endpoints in key order. Every delivery
    /// expires when the message does (its TTL runs from acceptance, not from this batch); disabled endpoints are
    /// skipped, and counted.
    /// </summary>
    private static async Task<Inserted> InsertBatchAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Claimed claimed, int batchSize, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var target = claimed.Target;
        await using var command = new NpgsqlCommand($"""
            WITH batch AS (
                SELECT e.id, e.application_id, e.enabled {target.FromWhere} AND {target.Key} > @after AND e.id > @after
                ORDER BY {target.Key} LIMIT @limit),
            inserted AS (
                INSERT INTO deliveries (message_id, endpoint_id, application_id, state, attempts, next_attempt_at, expires_at, completed_at)
                SELECT @m, b.id, b.application_id, CASE WHEN b.enabled THEN 'pending' ELSE 'skipped' END, 0, @now, @expires,
                       CASE WHEN b.enabled THEN NULL ELSE @now END
                FROM batch b
                RETURNING endpoint_id, id, state)
            SELECT count(*)::int, (SELECT endpoint_id FROM inserted ORDER BY endpoint_id DESC LIMIT 1), min(id), max(id),
                   count(*) FILTER (WHERE state = 'skipped')::int
            FROM inserted
            """, connection, transaction);
        target.Bind(command.Parameters, claimed.ProjectId);
        command.Parameters.Add(new NpgsqlParameter<Guid>("after", claimed.After));
        command.Parameters.Add(new NpgsqlParameter<int>("limit", batchSize));
        command.Parameters.Add(new NpgsqlParameter<Guid>("m", claimed.MessageId));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("expires", claimed.ExpiresAt));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var count = reader.GetInt32(0);
        return count == 0
            ? new Inserted(0, 0, claimed.After, 0, 0)
            : new Inserted(count, reader.GetInt32(4), reader.GetGuid(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    /// <summary>The message's target count grows and its delivery id range widens (least/greatest ignore a null start).</summary>
    private static async Task AddToMessageAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid messageId, Inserted inserted, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            UPDATE messages
            SET target_count = target_count + @n, first_delivery_id = least(first_delivery_id, @first), last_delivery_id = greatest(last_delivery_id, @last)
            WHERE id = @m
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid>("m", messageId));
        command.Parameters.Add(new NpgsqlParameter<int>("n", inserted.Count));
        command.Parameters.Add(new NpgsqlParameter<long>("first", inserted.FirstId));
        command.Parameters.Add(new NpgsqlParameter<long>("last", inserted.LastId));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Moves the cursor to <paramref name="next"/>, or deletes the row when the expansion is done (null).</summary>
    private static async Task MoveCursorAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Claimed claimed, Guid? next, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(next is null
            ? "DELETE FROM message_expansions WHERE message_id = @m AND after = @from"
            : "UPDATE message_expansions SET after = @to, batches = batches + 1, updated_at = @now WHERE message_id = @m AND after = @from",
            connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid>("m", claimed.MessageId));
        command.Parameters.Add(new NpgsqlParameter<Guid>("from", claimed.After));
        if (next is { } to)
        {
            command.Parameters.Add(new NpgsqlParameter<Guid>("to", to));
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        }

        if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            throw new InvalidOperationException($"The expansion of message {claimed.MessageId} moved while this batch ran; the batch is rolled back.");
        }
    }
}
