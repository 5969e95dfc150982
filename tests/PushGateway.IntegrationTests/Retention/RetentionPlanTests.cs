using Npgsql;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.Retention;

namespace PushGateway.IntegrationTests.Retention;

/// <summary>
/// The retention job's statements, on the job's own sessions, walk indexes (the primary keys of messages and
/// deliveries, idempotency_keys.created_at) on tables of 20,000 messages and deliveries whose statistics were taken
/// while they were empty; and the UUIDv7 bound really sorts below every id made before the cutoff.
/// </summary>
public sealed class RetentionPlanTests : IAsyncLifetime
{
    private const int Rows = 20_000;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private NpgsqlDataSource _dataSource = null!;

    public async ValueTask InitializeAsync()
    {
        var connectionString = await PostgresServer.Instance.CreateDatabaseAsync(Ct);
        _dataSource = RetentionStore.Create(connectionString);
        await using var setup = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = 300 }.ConnectionString);
        await using var command = setup.CreateCommand($$"""
            ANALYZE messages; ANALYZE deliveries; ANALYZE idempotency_keys;
            INSERT INTO projects (id, name, created_at) VALUES ('00000000-0000-0000-0000-000000000001', 'p', now());
            INSERT INTO deliveries (message_id, endpoint_id, application_id, state, attempts, next_attempt_at, expires_at, completed_at)
            SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'delivered', 1, now(), now(), now() - interval '40 days'
            FROM generate_series(1, {{Rows}});
            INSERT INTO messages (id, project_id, target_kind, target, created_at, expires_at, ttl_seconds, target_count, first_delivery_id, last_delivery_id)
            SELECT gen_random_uuid(), '00000000-0000-0000-0000-000000000001', 'endpoint', '{}', now() - interval '40 days', now(), 0, 1, i, i
            FROM generate_series(1, {{Rows}}) i;
            INSERT INTO idempotency_keys (project_id, key, request_hash, status_code, response, created_at)
            SELECT '00000000-0000-0000-0000-000000000001', 'k' || i, 'h', 202, '{}', now() - interval '2 days' FROM generate_series(1, {{Rows}}) i;
            """);
        await command.ExecuteNonQueryAsync(Ct);
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    [Fact]
    public async Task Candidates_WalkThePrimaryKeys()
    {
        var cutoff = DateTimeOffset.UtcNow.AddDays(-30);
        var plan = await ExplainAsync(RetentionStore.CandidatesSql,
            ("after", Guid.Empty), ("bound", RetentionStore.IdBound(cutoff)), ("cutoff", cutoff), ("limit", 500));
        Assert.Contains("Index Scan using pk_messages on messages m", plan);
        Assert.Contains("Index Scan using pk_deliveries on deliveries d", plan);
        Assert.DoesNotContain("Seq Scan", plan);
        Assert.DoesNotContain("Sort", plan);
    }

    [Fact]
    public async Task DeliveryDelete_LooksUpRangesByPrimaryKey()
    {
        var plan = await ExplainAsync(RetentionStore.DeleteDeliveriesSql,
            ("ids", new[] { Guid.NewGuid(), Guid.NewGuid() }), ("firsts", new long[] { 10, 500 }), ("lasts", new long[] { 20, 600 }));
        Assert.Contains("Index Scan using pk_deliveries on deliveries d", plan);
        Assert.Contains("Index Cond: ((id >= u.first) AND (id <= u.last))", plan);
        Assert.DoesNotContain("Seq Scan", plan);
    }

    [Fact]
    public async Task KeyDelete_WalksTheCreatedAtIndex()
    {
        var plan = await ExplainAsync(RetentionStore.DeleteKeysSql, ("cutoff", DateTimeOffset.UtcNow.AddDays(-1)), ("limit", 5000));
        Assert.Contains("Index Scan using ix_idempotency_keys_created_at on idempotency_keys", plan);
        Assert.Contains("Index Scan using pk_idempotency_keys on idempotency_keys k", plan);
        Assert.DoesNotContain("Seq Scan", plan);
    }

    [Fact]
    public async Task IdBound_SortsAboveEveryEarlierV7Id_AndBelowLaterOnes()
    {
        var cutoff = DateTimeOffset.UtcNow.AddMinutes(-1);
        var before = Enumerable.Range(0, 50).Select(i => Guid.CreateVersion7(cutoff.AddMilliseconds(-1 - i * 997))).ToArray();
        var after = Enumerable.Range(0, 50).Select(i => Guid.CreateVersion7(cutoff.AddMilliseconds(i * 997))).ToArray();
        await using var command = _dataSource.CreateCommand(
            "SELECT bool_and(b < @bound) FROM unnest(@before) b UNION ALL SELECT bool_and(a >= @bound) FROM unnest(@after) a");
        command.Parameters.Add(new NpgsqlParameter<Guid>("bound", RetentionStore.IdBound(cutoff)));
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("before", before));
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("after", after));
        await using var reader = await command.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct) && reader.GetBoolean(0));
        Assert.True(await reader.ReadAsync(Ct) && reader.GetBoolean(0));
    }

    private async Task<string> ExplainAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = _dataSource.CreateCommand("EXPLAIN " + sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            lines.Add(reader.GetString(0));
        }

        return string.Join("\n", lines);
    }
}
