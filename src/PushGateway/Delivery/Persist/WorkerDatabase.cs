using Npgsql;

namespace PushGateway.Delivery;

/// <summary>
/// The workers' own connection pool. Every transaction on it is short (a claim, a group of results): none stays open
/// while notifications are sent. Its commits are synchronous like the API's: results, once committed, survive a
/// database crash, so a crash re-sends only what was sent and not yet recorded. (Asynchronous commit was tried: it lost
/// up to a few hundred milliseconds of committed results in the database-restart test, which were then sent again.)
/// </summary>
/// <remarks>
/// Every statement the workers run is a keyed lookup (the queue's partial indexes, primary keys), so their sessions
/// also tell the planner not to prefer sequential or bitmap scans. Without that, an idle gateway polling an empty
/// queue leaves PostgreSQL with a generic plan for the prepared claim that was made for an empty table; when a
/// 100,000-row fan-out then arrives, every claim scans and sorts the whole table (on disk), and result batches are
/// matched with a hash join over it, until the next ANALYZE. The benchmark measured 30 to 70 ms per claim that way,
/// growing with the table. QueuePlanTests keeps the plans honest. No JIT either: a disabled sequential scan that is
/// still the only way (a small table such as applications) is costed so high that every such statement was compiled,
/// about 150 ms each (the misconfiguration sweeper's query on applications: 0.2 to 0.8 s a call in benchmark runs).
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
        builder.Options = $"{builder.Options} -c enable_seqscan=off -c enable_bitmapscan=off -c enable_hashjoin=off -c enable_mergejoin=off -c plan_cache_mode=force_custom_plan -c jit=off".TrimStart();
        return new WorkerDatabase(new NpgsqlDataSourceBuilder(builder.ConnectionString).Build());
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
