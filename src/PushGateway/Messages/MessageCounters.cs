using Npgsql;
using PushGateway.Data;

namespace PushGateway.Messages;

/// <summary>What one write adds to one message's counters.</summary>
internal sealed record CountDelta(Guid MessageId, long Delivered, long Failed, long Expired, long Skipped, long Retried, DateTimeOffset? LastCompletedAt)
{
    public bool IsEmpty => Delivered + Failed + Expired + Skipped + Retried == 0;
}

/// <summary>
/// The <c>message_counts</c> rows (see <see cref="MessageCount"/>): every change of a delivery to a final state adds
/// to them in the transaction that makes it, once per message per statement (<c>+ n</c>), into the row of the
/// writing session's slot; <c>GET /v1/messages/{id}</c> sums a message's few rows.
/// Only fan-outs (user, users, topic, application targets) are counted: a message to listed endpoints has at most
/// <see cref="PreparedMessage.MaxListTargets"/> deliveries, all inserted with it, and its receipt counts them
/// (through the message's delivery id range) instead. A counter row per single-endpoint message was a third row
/// written per delivery (with its foreign-key check and lock on the message), about as much as the delivery's own
/// result write.
/// </summary>
internal static class MessageCounters
{
    /// <summary>True for a message (<c>m</c>) whose receipt reads the counters: a fan-out.</summary>
    internal const string CountedSql = "m.target_kind NOT IN ('" + TargetKinds.Endpoint + "', '" + TargetKinds.Endpoints + "')";

    /// <summary>The writing session's row: concurrent transactions run in different sessions, so mostly different rows.</summary>
    internal const string SlotSql = "(pg_backend_pid() % 16)::smallint";

    internal const string AddOnConflictSql = """
        ON CONFLICT (message_id, slot) DO UPDATE SET
            delivered = message_counts.delivered + excluded.delivered,
            failed = message_counts.failed + excluded.failed,
            expired = message_counts.expired + excluded.expired,
            skipped = message_counts.skipped + excluded.skipped,
            retried = message_counts.retried + excluded.retried,
            last_completed_at = greatest(message_counts.last_completed_at, excluded.last_completed_at)
        """;

    /// <summary>
    /// Adds <paramref name="deltas"/> (one per message). Rows are taken in message id order, so two writers in one
    /// slot never wait on each other crosswise; a message deleted meanwhile (with its project), and one that is not
    /// counted (<see cref="CountedSql"/>), is left out.
    /// </summary>
    public static async Task AddAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyCollection<CountDelta> deltas, CancellationToken cancellationToken)
    {
        var rows = deltas.Where(d => !d.IsEmpty).OrderBy(d => d.MessageId).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        await using var command = new NpgsqlCommand($"""
            INSERT INTO message_counts (message_id, slot, delivered, failed, expired, skipped, retried, last_completed_at)
            SELECT u.id, {SlotSql}, u.delivered, u.failed, u.expired, u.skipped, u.retried, u.completed
            FROM unnest(@ids, @delivered, @failed, @expired, @skipped, @retried, @completed)
                 AS u(id, delivered, failed, expired, skipped, retried, completed)
            WHERE EXISTS (SELECT 1 FROM messages m WHERE m.id = u.id AND {CountedSql})
            ORDER BY u.id
            {AddOnConflictSql}
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", rows.Select(r => r.MessageId).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<long[]>("delivered", rows.Select(r => r.Delivered).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<long[]>("failed", rows.Select(r => r.Failed).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<long[]>("expired", rows.Select(r => r.Expired).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<long[]>("skipped", rows.Select(r => r.Skipped).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<long[]>("retried", rows.Select(r => r.Retried).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset?[]>("completed", rows.Select(r => r.LastCompletedAt).ToArray()));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// One delta per message from rows that were pending (or held) and now have <paramref name="rows"/>' state:
    /// final states are counted, a retry (still pending or held after an attempt) marks the message as sending.
    /// </summary>
    public static List<CountDelta> FromChanges(IEnumerable<(Guid MessageId, string State, int Attempts, DateTimeOffset? CompletedAt)> rows) =>
        rows.GroupBy(r => r.MessageId)
            .Select(g => new CountDelta(
                g.Key,
                g.LongCount(r => r.State == DeliveryStates.Delivered),
                g.LongCount(r => r.State == DeliveryStates.Failed),
                g.LongCount(r => r.State == DeliveryStates.Expired),
                g.LongCount(r => r.State == DeliveryStates.Skipped),
                g.LongCount(r => r.State is DeliveryStates.Pending or DeliveryStates.Held && r.Attempts > 0),
                g.Max(r => r.CompletedAt)))
            .ToList();
}
