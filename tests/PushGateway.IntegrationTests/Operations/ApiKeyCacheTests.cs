using System.Diagnostics;
using System.Net;
using Npgsql;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Operations;

/// <summary>Two gateways (replicas) on one database, the second with a short cache bound for the missed-notification case.</summary>
public sealed class TwoReplicasOneDatabase : IAsyncLifetime
{
    public ReplicaGateway A { get; } = new(new Dictionary<string, string?>());

    /// <summary>Trusts a cached key for 3 s at most (the default is 60 s).</summary>
    public ReplicaGateway B { get; } = new(new Dictionary<string, string?> { ["PushGateway:ApiKeyCacheSeconds"] = "3" });

    public async ValueTask InitializeAsync()
    {
        var database = await PostgresServer.Instance.CreateDatabaseAsync(CancellationToken.None);
        await A.StartOnAsync(database);
        await B.StartOnAsync(database);
    }

    public async ValueTask DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
    }
}

/// <summary>A gateway started on a database another one already uses.</summary>
public sealed class ReplicaGateway(IDictionary<string, string?> settings) : TestGateway
{
    protected override IDictionary<string, string?> Settings => settings;

    public override ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public Task StartOnAsync(string connectionString) => StartAsync(connectionString);
}

/// <summary>
/// Every replica caches the API keys it has seen; a revocation on one replica must stop the key on every replica
/// within a second (PostgreSQL notifications), and a missed notification is bounded.
/// </summary>
public sealed class ApiKeyCacheTests(TwoReplicasOneDatabase replicas) : IClassFixture<TwoReplicasOneDatabase>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<HttpStatusCode> StatusAsync(TestGateway gateway, string key)
    {
        using var client = gateway.Client(key);
        return (await client.GetAsync("v1/applications", Ct)).StatusCode;
    }

    private async Task<TimeSpan> TimeUntilRefusedAsync(TestGateway gateway, string key, TimeSpan limit)
    {
        var started = Stopwatch.StartNew();
        while (started.Elapsed < limit)
        {
            if (await StatusAsync(gateway, key) == HttpStatusCode.Unauthorized)
            {
                return started.Elapsed;
            }

            await Task.Delay(20, Ct);
        }

        return TimeSpan.MaxValue;
    }

    private async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(replicas.A.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync(Ct);
    }

    /// <summary>Waits until B's listener is connected, so that what it caches counts on notifications.</summary>
    private async Task WaitListeningAsync()
    {
        var started = Stopwatch.StartNew();
        while (started.Elapsed < TimeSpan.FromSeconds(20))
        {
            var listeners = await replicas.A.ScalarAsync<long>(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pushgateway-listener' AND state = 'idle'", Ct);
            if (listeners >= 2)
            {
                return;
            }

            await Task.Delay(50, Ct);
        }

        Assert.Fail("the replicas' listeners did not connect");
    }

    [Fact]
    public async Task KeyRevokedOnOneReplica_IsRefusedByTheOther_WithinASecond()
    {
        await WaitListeningAsync();
        var project = await replicas.A.NewProjectAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(replicas.B, project.Key));

        using var admin = replicas.A.Admin();
        var revoke = await admin.DeleteAsync($"v1/projects/{project.ProjectId}/api-keys/{project.KeyId}", Ct);
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);

        // The replica that revoked refuses at once; the other one once the notification arrives.
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(replicas.A, project.Key));
        var elapsed = await TimeUntilRefusedAsync(replicas.B, project.Key, TimeSpan.FromSeconds(2.5));
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"replica B still accepted the revoked key after {elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task MissedNotification_TheKeyStopsWithinTheCacheBound()
    {
        await WaitListeningAsync();
        var project = await replicas.A.NewProjectAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(replicas.B, project.Key));
        var cachedAt = Stopwatch.StartNew();

        // Revoked with the trigger off: no notification is ever sent.
        await ExecuteAsync("""
            ALTER TABLE api_keys DISABLE TRIGGER api_keys_notify_change;
            UPDATE api_keys SET revoked_at = now() WHERE id = @id;
            ALTER TABLE api_keys ENABLE TRIGGER api_keys_notify_change;
            """, ("id", project.KeyId));

        // B serves it from its cache for a while (so the cache is really in use), then no longer than its 3 s bound.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(replicas.B, project.Key));
        var elapsed = await TimeUntilRefusedAsync(replicas.B, project.Key, TimeSpan.FromSeconds(10));
        Assert.NotEqual(TimeSpan.MaxValue, elapsed);
        Assert.InRange(cachedAt.Elapsed.TotalSeconds, 2.0, 5.0);
    }

    [Fact]
    public async Task ListenerConnectionLost_TheCacheIsNotTrusted_AndRevocationsReachItAgainAfterReconnecting()
    {
        await WaitListeningAsync();
        var project = await replicas.A.NewProjectAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(replicas.A, project.Key));

        // Every listener loses its connection; a revocation without notification happens meanwhile.
        await ExecuteAsync("""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pushgateway-listener';
            ALTER TABLE api_keys DISABLE TRIGGER api_keys_notify_change;
            UPDATE api_keys SET revoked_at = now() WHERE id = @id;
            ALTER TABLE api_keys ENABLE TRIGGER api_keys_notify_change;
            """, ("id", project.KeyId));
        // A (60 s bound) must not serve the key it had cached: the cache is emptied when its listener drops.
        var elapsed = await TimeUntilRefusedAsync(replicas.A, project.Key, TimeSpan.FromSeconds(2.5));
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"replica A still accepted the key after {elapsed.TotalMilliseconds:F0} ms without its listener");

        // The listeners come back, and revocations reach the other replica again through notifications.
        await WaitListeningAsync();
        var second = await replicas.A.NewProjectAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(replicas.A, second.Key));
        using var admin = replicas.B.Admin();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"v1/projects/{second.ProjectId}/api-keys/{second.KeyId}", Ct)).StatusCode);
        elapsed = await TimeUntilRefusedAsync(replicas.A, second.Key, TimeSpan.FromSeconds(2.5));
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"replica A still accepted the second revoked key after {elapsed.TotalMilliseconds:F0} ms");
    }
}

/// <summary>
/// Behind a transaction-pooling PgBouncer LISTEN does not work, so the API-key cache's listener connects through
/// <c>ConnectionStrings__PushGatewayListen</c> (directly to PostgreSQL) like the wake-up listener. Here that string
/// names a port nothing listens on: the listener never connects to the database the queries use, and every key is
/// then checked in the database (a revocation is refused at once).
/// </summary>
public sealed class ApiKeyListenerConnectionTests : IAsyncLifetime
{
    private readonly ReplicaGateway _gateway = new(new Dictionary<string, string?>
    {
        ["ConnectionStrings:PushGatewayListen"] = "Host=127.0.0.1;Port=1;Username=nobody;Password=x;Database=none;Timeout=1",
    });

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await _gateway.StartOnAsync(await PostgresServer.Instance.CreateDatabaseAsync(CancellationToken.None));

    public ValueTask DisposeAsync() => _gateway.DisposeAsync();

    [Fact]
    public async Task ListenConnectionString_IsTheOneTheKeyListenerUses_AndKeysAreCheckedInTheDatabaseWithoutIt()
    {
        var project = await _gateway.NewProjectAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, (await project.Client.GetAsync("v1/applications", Ct)).StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        var listeners = await _gateway.ScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pushgateway-listener'", Ct);
        Assert.Equal(0, listeners);

        using var admin = _gateway.Admin();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"v1/projects/{project.ProjectId}/api-keys/{project.KeyId}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await project.Client.GetAsync("v1/applications", Ct)).StatusCode);
    }
}
