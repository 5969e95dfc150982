using Npgsql;
using PushGateway.Delivery;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Delivery;

/// <summary>
/// The workers' statements keep their indexed plans when PostgreSQL's statistics are stale: the situation right after
/// a large fan-out into a queue table that was empty at the last ANALYZE (a fresh install), where the planner would
/// otherwise claim with a sequential scan and an on-disk sort of the whole table, every batch.
/// </summary>
public sealed class QueuePlanTests : IAsyncLifetime
{
    private const int Rows = 20_000;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly string InsertDueRows = $"""
        INSERT INTO deliveries (message_id, endpoint_id, application_id, state, attempts, next_attempt_at, expires_at)
        SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'pending', 0, now() - interval '1 minute', now() + interval '1 day'
        FROM generate_series(1, {Rows});
        """;

    private string _connectionString = "";

    public async ValueTask InitializeAsync()
    {
        _connectionString = await PostgresServer.Instance.CreateDatabaseAsync(Ct);
        await using var dataSource = NpgsqlDataSource.Create(_connectionString);
        // Statistics taken while the queue is empty, then a fan-out's worth of due rows (no ANALYZE after it).
        await using var command = dataSource.CreateCommand("ANALYZE deliveries; " + InsertDueRows);
        await command.ExecuteNonQueryAsync(Ct);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task Claim_WalksTheDueIndex_AfterPollingAnEmptyQueue()
    {
        // An idle gateway polls an empty queue; PostgreSQL settles on one generic plan for the prepared claim, made
        // for an empty table. Then a fan-out arrives: the plan must still walk the due index.
        var connectionString = await PostgresServer.Instance.CreateDatabaseAsync(Ct);
        await using var worker = WorkerDatabase.Create(connectionString);
        await using var connection = await worker.DataSource.OpenConnectionAsync(Ct);
        var positional = DeliveryQueue.ClaimSql
            .Replace("@now", "$1").Replace("@after_at", "$2").Replace("@after_id", "$3").Replace("@excluded", "$4").Replace("@limit", "$5")
            .Replace("@leased_until", "$6").Replace("@owner", "$7");
        await ExecuteAsync(connection, "ANALYZE deliveries; PREPARE claim (timestamptz, timestamptz, bigint, uuid[], int, timestamptz, uuid) AS " + positional);
        for (var i = 0; i < 8; i++)
        {
            await ExecuteAsync(connection, "BEGIN; EXECUTE claim(now(), '-infinity', 0, '{}', 1000, now() + interval '30 seconds', gen_random_uuid()); ROLLBACK");
        }

        await ExecuteAsync(connection, InsertDueRows);
        var plan = await QueryLinesAsync(connection, "EXPLAIN EXECUTE claim(now(), '-infinity', 0, '{}', 1000, now() + interval '30 seconds', gen_random_uuid())");

        Assert.Contains("Index Scan using ix_deliveries_due on deliveries", plan);
        Assert.DoesNotContain("Seq Scan on deliveries", plan);
        Assert.DoesNotContain("Bitmap Heap Scan on deliveries", plan);
        AssertKeyedLookups(plan, "pk_deliveries on deliveries d");
    }

    /// <summary>Every scan of <paramref name="scan"/> in the plan has an index condition on the key: no full walks.</summary>
    private static void AssertKeyedLookups(string plan, string scan)
    {
        var lines = plan.Split('\n');
        var scans = Enumerable.Range(0, lines.Length).Where(at => lines[at].Contains(scan, StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(scans);
        Assert.All(scans, at => Assert.True(at + 1 < lines.Length && lines[at + 1].Contains("Index Cond: (id ", StringComparison.Ordinal), plan));
    }

    [Fact]
    public async Task Claim_TakesRowsInDueOrder_FromTheStaleTable()
    {
        await using var worker = WorkerDatabase.Create(_connectionString);
        var queue = new DeliveryQueue(worker);
        var cursor = new QueueCursor(TimeProvider.System, TimeSpan.FromSeconds(2));
        var now = DateTimeOffset.UtcNow;
        var batch = await queue.ClaimAsync(500, [], now, now.AddSeconds(30), Guid.NewGuid(), cursor, Ct);

        Assert.Equal(500, batch.Count);
        Assert.Equal(batch.Select(i => i.Id).Order(), batch.Select(i => i.Id));
    }

    [Fact]
    public async Task WritingResults_MatchesRowsByPrimaryKey_NotByHashingTheTable()
    {
        // Statistics from when the table was small and no row had a lease owner (the first minutes of a fresh
        // install), then a fan-out's worth of rows: once, the planner took the owner test for a one-row filter and
        // walked the whole primary key for it in every result group.
        var connectionString = await PostgresServer.Instance.CreateDatabaseAsync(Ct);
        await using (var dataSource = NpgsqlDataSource.Create(connectionString))
        await using (var seed = dataSource.CreateCommand(InsertDueRows.Replace($"{Rows}", "2000") + "ANALYZE deliveries; " + InsertDueRows))
        {
            await seed.ExecuteNonQueryAsync(Ct);
        }

        long[] ids;
        await using (var dataSource = NpgsqlDataSource.Create(connectionString))
        await using (var command = dataSource.CreateCommand("SELECT id FROM deliveries ORDER BY id DESC LIMIT 500"))
        await using (var reader = await command.ExecuteReaderAsync(Ct))
        {
            var list = new List<long>();
            while (await reader.ReadAsync(Ct))
            {
                list.Add(reader.GetInt64(0));
            }

            ids = [.. list];
        }

        var now = DateTimeOffset.UtcNow;
        // Planned as a worker session plans it (custom plans only: plan_cache_mode = force_custom_plan).
        var plan = await ExplainAsync(connectionString, ResultStore.WriteResultsSql, parameters =>
        {
            parameters.Add(new NpgsqlParameter<long[]>("ids", ids));
            parameters.Add(new NpgsqlParameter<int[]>("claimed", ids.Select(_ => 1).ToArray()));
            parameters.Add(new NpgsqlParameter<Guid>("owner", Guid.NewGuid()));
            parameters.Add(new NpgsqlParameter<string[]>("states", ids.Select(_ => "delivered").ToArray()));
            parameters.Add(new NpgsqlParameter<int[]>("attempts", ids.Select(_ => 1).ToArray()));
            parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("next", ids.Select(_ => now).ToArray()));
            parameters.Add(new NpgsqlParameter<DateTimeOffset?[]>("last", ids.Select(_ => (DateTimeOffset?)now).ToArray()));
            parameters.Add(new NpgsqlParameter<DateTimeOffset?[]>("completed", ids.Select(_ => (DateTimeOffset?)now).ToArray()));
            parameters.Add(new NpgsqlParameter<int?[]>("statuses", ids.Select(_ => (int?)200).ToArray()));
            parameters.Add(new NpgsqlParameter<string?[]>("reasons", ids.Select(_ => (string?)null).ToArray()));
            parameters.Add(new NpgsqlParameter<string?[]>("pids", ids.Select(_ => (string?)"id").ToArray()));
            parameters.Add(new NpgsqlParameter<string?[]>("uids", ids.Select(_ => (string?)null).ToArray()));
        });

        // Every visit of the table is a keyed lookup: an index scan with an index condition, never a full walk.
        Assert.DoesNotContain("Seq Scan on deliveries", plan);
        AssertKeyedLookups(plan, "pk_deliveries on deliveries d");
    }

    /// <summary>The plan PostgreSQL chooses for <paramref name="sql"/> in a delivery worker's session.</summary>
    private static async Task<string> ExplainAsync(string connectionString, string sql, Action<NpgsqlParameterCollection> bind)
    {
        await using var worker = WorkerDatabase.Create(connectionString);
        await using var connection = await worker.DataSource.OpenConnectionAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);

        await using var command = new NpgsqlCommand("EXPLAIN " + sql, connection, transaction);
        bind(command.Parameters);
        var plan = await ReadLinesAsync(command);
        await transaction.RollbackAsync(Ct);
        return plan;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

    private static async Task<string> QueryLinesAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await ReadLinesAsync(command);
    }

    private static async Task<string> ReadLinesAsync(NpgsqlCommand command)
    {
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            lines.Add(reader.GetString(0));
        }

        return string.Join('\n', lines);
    }
}
