using System.Globalization;
using Npgsql;

namespace PushGateway.Retention;

/// <summary>A candidate message: complete long enough ago, and locked by this transaction.</summary>
internal sealed record ExpiredMessage(Guid Id, long? FirstDeliveryId, long? LastDeliveryId)
{
    /// <summary>Upper bound of its deliveries (the id range may also hold other messages' rows).</summary>
    public long Span => FirstDeliveryId is { } f && LastDeliveryId is { } l && l >= f ? l - f + 1 : 0;
}

/// <summary>
/// What one transaction removed; <see cref="Cursor"/> is where the next one starts (keyset over message ids).
/// <see cref="Big"/>: a message with more deliveries than a batch, left for <see cref="RetentionStore.TrimAsync"/>.
/// </summary>
internal readonly record struct BatchResult(long Messages, long Deliveries, Guid Cursor, bool More, Guid? Big = null);

/// <summary>
/// The retention job's statements, on its own two-connection pool. Every statement is a keyed scan (message primary
/// key, delivery primary key ranges, the idempotency keys' created_at index), so the session carries the workers'
/// planner settings; RetentionPlanTests checks the plans.
/// </summary>
/// <remarks>
/// Which messages are old: message ids are UUIDv7, so "created before the cutoff" is a range of the primary key
/// (<see cref="IdBound"/>) and no index on created_at is needed. When a message completed: the latest completed_at of
/// its deliveries, read through the primary key within the message's delivery id range (the same way the receipts
/// routes read them). A message with a pending or held delivery is not complete and is skipped; so is a fan-out
/// still being expanded (its message_expansions row), whose deliveries are not all there yet.
/// </remarks>
internal sealed class RetentionStore : IAsyncDisposable
{
    /// <summary>Candidate messages examined per transaction.</summary>
    private const int MaxCandidates = 500;

    internal const string CandidatesSql = """
        SELECT m.id, m.first_delivery_id, m.last_delivery_id
        FROM messages m
        WHERE m.id > @after AND m.id < @bound AND m.created_at < @cutoff
          AND NOT EXISTS (SELECT 1 FROM message_expansions x WHERE x.message_id = m.id)
          AND NOT EXISTS (
              SELECT 1 FROM deliveries d
              WHERE d.id BETWEEN m.first_delivery_id AND m.last_delivery_id AND d.message_id = m.id
                AND (d.state IN ('pending', 'held') OR d.completed_at >= @cutoff))
        ORDER BY m.id
        LIMIT @limit
        FOR UPDATE OF m SKIP LOCKED
        """;

    internal const string DeleteDeliveriesSql = """
        DELETE FROM deliveries d
        USING unnest(@ids, @firsts, @lasts) AS u(id, first, last)
        WHERE d.id BETWEEN u.first AND u.last AND d.message_id = u.id
        """;

    internal const string DeleteKeysSql = """
        DELETE FROM idempotency_keys k
        USING (SELECT project_id, key FROM idempotency_keys WHERE created_at < @cutoff ORDER BY created_at LIMIT @limit FOR UPDATE SKIP LOCKED) old
        WHERE k.project_id = old.project_id AND k.key = old.key
        """;

    private readonly NpgsqlDataSource _dataSource;

    public RetentionStore(IConfiguration configuration) =>
        _dataSource = Create(configuration.GetConnectionString("PushGateway")!);

    internal RetentionStore(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    internal static NpgsqlDataSource Create(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "PushGateway retention", MaxPoolSize = 2 };
        builder.MinPoolSize = Math.Min(builder.MinPoolSize, builder.MaxPoolSize);
        builder.Options = $"{builder.Options} -c enable_seqscan=off -c enable_bitmapscan=off -c enable_hashjoin=off -c enable_mergejoin=off -c plan_cache_mode=force_custom_plan -c jit=off".TrimStart();
        return new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
    }

    /// <summary>
    /// The smallest UUIDv7 of the millisecond <paramref name="cutoff"/>: every v7 id made before it sorts below (PostgreSQL
    /// compares uuids byte by byte, and a v7 id starts with its big-endian Unix time in milliseconds).
    /// </summary>
    internal static Guid IdBound(DateTimeOffset cutoff)
    {
        var ms = Math.Max(0, cutoff.ToUnixTimeMilliseconds());
        var hex = ms.ToString("x12", CultureInfo.InvariantCulture);
        return Guid.Parse($"{hex[..8]}-{hex[8..12]}-0000-0000-000000000000");
    }

    /// <summary>
    /// One short transaction: locks up to <see cref="MaxCandidates"/> messages after <paramref name="after"/> that
    /// completed before <paramref name="cutoff"/> (skipping rows another replica holds), and deletes as many whole ones
    /// with their deliveries as fit in <paramref name="batchSize"/> deliveries. A first message with more deliveries
    /// than that is returned as <see cref="BatchResult.Big"/> for <see cref="TrimAsync"/>.
    /// </summary>
    public async Task<BatchResult> DeleteMessagesAsync(DateTimeOffset cutoff, Guid after, int batchSize, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var candidates = await CandidatesAsync(connection, transaction, cutoff, after, cancellationToken);
        if (candidates.Count == 0)
        {
            await transaction.CommitAsync(cancellationToken);
            return new BatchResult(0, 0, after, false);
        }

        var whole = new List<ExpiredMessage>();
        long span = 0;
        foreach (var m in candidates)
        {
            if (whole.Count > 0 && span + m.Span > batchSize)
            {
                break;
            }

            whole.Add(m);
            span += m.Span;
        }

        if (whole is [{ Span: var big } first] && big > batchSize)
        {
            await transaction.CommitAsync(cancellationToken);
            return new BatchResult(0, 0, first.Id, true, first.Id);
        }

        var deliveries = await DeleteWholeAsync(connection, transaction, whole, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new BatchResult(whole.Count, deliveries, whole[^1].Id, true);
    }

    /// <summary>
    /// One transaction on a message already found complete (final states are final, so it stays complete): deletes
    /// the deliveries in the first <paramref name="batchSize"/> ids of its range and moves the range's start past them,
    /// or, when the rest fits, the rest and the message. Returns the deliveries deleted, whether this message is done with
    /// (deleted here, or locked by another replica, which then finishes it) and whether this call deleted it.
    /// </summary>
    public async Task<(long Deliveries, bool Done, bool Deleted)> TrimAsync(Guid messageId, int batchSize, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        ExpiredMessage? message = null;
        await using (var select = new NpgsqlCommand(
            "SELECT id, first_delivery_id, last_delivery_id FROM messages WHERE id = @id FOR UPDATE SKIP LOCKED", connection, transaction))
        {
            select.Parameters.Add(new NpgsqlParameter<Guid>("id", messageId));
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                message = new ExpiredMessage(reader.GetGuid(0), reader.IsDBNull(1) ? null : reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetInt64(2));
            }
        }

        if (message is null)
        {
            await transaction.CommitAsync(cancellationToken);
            return (0, true, false);
        }

        if (message.Span <= batchSize)
        {
            var rest = await DeleteWholeAsync(connection, transaction, [message], cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return (rest, true, true);
        }

        var end = message.FirstDeliveryId!.Value + batchSize - 1;
        await using var delete = new NpgsqlCommand(
            "DELETE FROM deliveries WHERE id BETWEEN @first AND @end AND message_id = @id", connection, transaction);
        delete.Parameters.Add(new NpgsqlParameter<long>("first", message.FirstDeliveryId.Value));
        delete.Parameters.Add(new NpgsqlParameter<long>("end", end));
        delete.Parameters.Add(new NpgsqlParameter<Guid>("id", messageId));
        var deleted = await delete.ExecuteNonQueryAsync(cancellationToken);

        await using var update = new NpgsqlCommand("UPDATE messages SET first_delivery_id = @next WHERE id = @id", connection, transaction);
        update.Parameters.Add(new NpgsqlParameter<long>("next", end + 1));
        update.Parameters.Add(new NpgsqlParameter<Guid>("id", messageId));
        await update.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (deleted, false, false);
    }

    /// <summary>Deletes up to <paramref name="batchSize"/> idempotency keys created before <paramref name="cutoff"/>.</summary>
    public async Task<int> DeleteIdempotencyKeysAsync(DateTimeOffset cutoff, int batchSize, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(DeleteKeysSql);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("cutoff", cutoff));
        command.Parameters.Add(new NpgsqlParameter<int>("limit", batchSize));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<List<ExpiredMessage>> CandidatesAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, DateTimeOffset cutoff, Guid after, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(CandidatesSql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid>("after", after));
        command.Parameters.Add(new NpgsqlParameter<Guid>("bound", IdBound(cutoff)));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("cutoff", cutoff));
        command.Parameters.Add(new NpgsqlParameter<int>("limit", MaxCandidates));
        var found = new List<ExpiredMessage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found.Add(new ExpiredMessage(reader.GetGuid(0),
                reader.IsDBNull(1) ? null : reader.GetInt64(1),
                reader.IsDBNull(2) ? null : reader.GetInt64(2)));
        }

        return found;
    }

    private static async Task<long> DeleteWholeAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<ExpiredMessage> messages, CancellationToken cancellationToken)
    {
        long deliveries = 0;
        var ranged = messages.Where(m => m.Span > 0).ToList();
        if (ranged.Count > 0)
        {
            await using var delete = new NpgsqlCommand(DeleteDeliveriesSql, connection, transaction);
            delete.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", ranged.Select(m => m.Id).ToArray()));
            delete.Parameters.Add(new NpgsqlParameter<long[]>("firsts", ranged.Select(m => m.FirstDeliveryId!.Value).ToArray()));
            delete.Parameters.Add(new NpgsqlParameter<long[]>("lasts", ranged.Select(m => m.LastDeliveryId!.Value).ToArray()));
            deliveries = await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var command = new NpgsqlCommand("DELETE FROM messages WHERE id = ANY(@ids)", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", messages.Select(m => m.Id).ToArray()));
        await command.ExecuteNonQueryAsync(cancellationToken);
        return deliveries;
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
