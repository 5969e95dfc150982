using Npgsql;
using PushGateway.Hosting;
using PushGateway.Migrations;
using Testcontainers.PostgreSql;

[assembly: AssemblyFixture(typeof(PushGateway.IntegrationTests.Infrastructure.PostgresServer))]

namespace PushGateway.IntegrationTests.Infrastructure;

/// <summary>
/// One PostgreSQL server for the whole test run: a Testcontainers container when a Docker engine is reachable,
/// otherwise a throwaway cluster started from the machine's PostgreSQL binaries (as an unprivileged user when the
/// tests run as root). The real migrations are applied once to a template database; every test class clones it.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private const string TemplateName = "pushgateway_template";
    private static readonly SemaphoreSlim CreateLock = new(1, 1);
    private static int _databaseCounter;

    private PostgreSqlContainer? _container;
    private LocalPostgres? _local;
    private string? _localRoot;

    public static PostgresServer Instance { get; private set; } = null!;

    /// <summary>Connection string to the maintenance database (for CREATE DATABASE).</summary>
    public string AdminConnectionString { get; private set; } = "";

    /// <summary>The local cluster, when tests run without Docker (crash and restart tests need it).</summary>
    internal LocalPostgres? Local => _local;

    public async ValueTask InitializeAsync()
    {
        Instance = this;
        if (DockerAvailable())
        {
            try
            {
                _container = new PostgreSqlBuilder("postgres:15-alpine").Build();
                await _container.StartAsync();
                AdminConnectionString = new NpgsqlConnectionStringBuilder(_container.GetConnectionString()) { Database = "postgres" }.ConnectionString;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _container = null;
            }
        }

        if (_container is null)
        {
            _localRoot = Path.Combine(Path.GetTempPath(), "pushgateway-tests-" + Guid.NewGuid().ToString("N")[..8]);
            _local = await LocalPostgres.StartAsync(_localRoot,
                new Dictionary<string, string>
                {
                    // A throwaway cluster: durability settings off for speed (Testcontainers does the same).
                    ["fsync"] = "off",
                    ["synchronous_commit"] = "off",
                    ["full_page_writes"] = "off",
                    ["max_connections"] = "500",
                },
                stopOnDispose: true, log: null, CancellationToken.None);
            AdminConnectionString = _local.ConnectionString("postgres");
        }

        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {TemplateName}", connection);
            await create.ExecuteNonQueryAsync();
        }

        await DatabaseMigrator.MigrateAsync(ConnectionString(TemplateName), CancellationToken.None);
        NpgsqlConnection.ClearAllPools();
    }

    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = database, MaxPoolSize = 60 }.ConnectionString;

    /// <summary>A fresh, migrated database for one test class (a clone of the template).</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken)
    {
        var name = $"test_{Interlocked.Increment(ref _databaseCounter)}_{Guid.NewGuid().ToString("N")[..6]}";
        await CreateLock.WaitAsync(cancellationToken);
        try
        {
            await using var connection = new NpgsqlConnection(AdminConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name} TEMPLATE {TemplateName}", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            CreateLock.Release();
        }

        return ConnectionString(name);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }

        if (_local is not null)
        {
            await _local.DisposeAsync();
        }

        if (_localRoot is not null)
        {
            try
            {
                Directory.Delete(_localRoot, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: it lives in the temp folder.
            }
        }
    }

    private static bool DockerAvailable() =>
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_HOST")) || File.Exists("/var/run/docker.sock");
}
