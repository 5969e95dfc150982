using Npgsql;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.WebConsole;

namespace PushGateway.IntegrationTests.WebConsole;

/// <summary>
/// The overview's queue columns read the queue, not the delivery history: with another tenant's large queue and a long
/// history in the same table, no application's counts make PostgreSQL read the whole deliveries table.
/// </summary>
public sealed class ConsoleQueueTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly Guid Quiet = Guid.CreateVersion7();
    private static readonly Guid Busy = Guid.CreateVersion7();
    private static readonly Guid Small = Guid.CreateVersion7();
    private static readonly Guid Empty = Guid.CreateVersion7();

    [Fact]
    public async Task Queues_CountPendingAndHeld_AndTheOldestDue_WithoutReadingTheWholeTable()
    {
        var connectionString = await PostgresServer.Instance.CreateDatabaseAsync(Ct);
        // One connection: the statistics this test reads are flushed by the backend that ran the queries.
        await using var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 1 }.ConnectionString);
        var now = DateTimeOffset.UtcNow;

        // History: 40,000 delivered for "quiet" (nothing waiting), among them a queue of 20,000 due for "busy" (another
        // tenant), as a live table has them, side by side; "small" has two due, one retrying later and two held.
        await ExecuteAsync(dataSource, $"""
            INSERT INTO deliveries (message_id, endpoint_id, application_id, state, attempts, next_attempt_at, expires_at, completed_at)
            SELECT gen_random_uuid(), gen_random_uuid(),
                   CASE WHEN i % 3 = 0 THEN '{Busy}'::uuid ELSE '{Quiet}'::uuid END,
                   CASE WHEN i % 3 = 0 THEN 'pending' ELSE 'delivered' END, 0,
                   now() - interval '1 minute' - i * interval '1 millisecond', now() + interval '1 day',
                   CASE WHEN i % 3 = 0 THEN NULL ELSE now() END
            FROM generate_series(1, 60000) i;
            INSERT INTO deliveries (message_id, endpoint_id, application_id, state, attempts, next_attempt_at, expires_at) VALUES
              (gen_random_uuid(), gen_random_uuid(), '{Small}', 'pending', 0, now() - interval '10 minutes', now() + interval '1 day'),
              (gen_random_uuid(), gen_random_uuid(), '{Small}', 'pending', 0, now() - interval '5 minutes', now() + interval '1 day'),
              (gen_random_uuid(), gen_random_uuid(), '{Small}', 'pending', 2, now() + interval '1 hour', now() + interval '1 day'),
              (gen_random_uuid(), gen_random_uuid(), '{Small}', 'held', 1, now() - interval '1 minute', now() + interval '1 day'),
              (gen_random_uuid(), gen_random_uuid(), '{Small}', 'held', 1, now() - interval '1 minute', now() + interval '1 day');
            ANALYZE deliveries;
            """);
        var before = await SequentialScansAsync(dataSource);

        var queries = new ConsoleQueries(dataSource);
        var queues = await queries.QueuesAsync([Quiet, Busy, Small, Empty], now, Ct);

        Assert.Equal(before, await SequentialScansAsync(dataSource));
        Assert.Equal(new ApplicationQueue(0, 0, 0), queues[Quiet]);
        Assert.Equal(new ApplicationQueue(0, 0, 0), queues[Empty]);
        Assert.Equal(ConsoleQueries.QueueCountCap, queues[Busy].Pending);
        Assert.InRange(queues[Busy].OldestDueSeconds, 100, 180);
        Assert.Equal(3, queues[Small].Pending);
        Assert.Equal(2, queues[Small].Held);
        Assert.InRange(queues[Small].OldestDueSeconds, 590, 660);
    }

    /// <summary>Sequential scans of deliveries so far, with this backend's own counts flushed first.</summary>
    private static async Task<long> SequentialScansAsync(NpgsqlDataSource dataSource)
    {
        await ExecuteAsync(dataSource, "SELECT pg_stat_force_next_flush()");
        await ExecuteAsync(dataSource, "SELECT 1");
        await using var command = dataSource.CreateCommand("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'deliveries'");
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(Ct);
    }
}
