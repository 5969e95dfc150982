using System.Diagnostics;
using Npgsql;

namespace PushGateway.Hosting;

/// <summary>The NOTIFY channels: one per kind of background work another replica may be waiting for.</summary>
internal static class WakeupChannels
{
    public const string Deliveries = "pushgateway_deliveries";
    public const string Expansions = "pushgateway_expansions";
    public const string Events = "pushgateway_events";

    public static readonly string[] All = [Deliveries, Expansions, Events];

    public static int Bit(string channel) => 1 << Array.IndexOf(All, channel);
}

/// <summary>The <c>Wakeup</c> section: waking the other replicas' workers through PostgreSQL LISTEN/NOTIFY.</summary>
internal sealed class WakeupOptions
{
    public const string SectionName = "Wakeup";

    /// <summary>Send and listen for wake-ups (off: every replica finds the others' work by polling alone).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The least time between two NOTIFY transactions of this process: requests in between are coalesced into the next
    /// one. It bounds what a busy replica sends (every NOTIFY takes PostgreSQL's cluster-wide notify lock at commit)
    /// and adds at most this much to a wake-up.
    /// </summary>
    public TimeSpan MinimumSpacing { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>How often the idle listener checks its connection with a round trip (a half-open connection is then found).</summary>
    public TimeSpan ListenerCheckInterval { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The two connections of the wake-up, apart from the pools used for queries so a busy API or worker pool never
/// delays a wake-up: the publisher's (one pooled connection, through PgBouncer or not) and the listener's (one session
/// that must reach PostgreSQL itself: <c>ConnectionStrings__PushGatewayListen</c> when the main connection string
/// goes through a transaction-pooling PgBouncer).
/// </summary>
internal sealed class WakeupConnections : IAsyncDisposable, IDisposable
{
    /// <summary>Sent with every NOTIFY, so a replica ignores its own (it woke its loops already).</summary>
    public string ReplicaId { get; } = Guid.NewGuid().ToString("N");

    public NpgsqlDataSource Publisher { get; }

    public NpgsqlDataSource Listener { get; }

    /// <summary>The listener's <c>application_name</c>, by which an operator (or a test) finds it in <c>pg_stat_activity</c>.</summary>
    public static string ListenerApplicationName => $"PushGateway wakeup listener {Environment.ProcessId}";

    public WakeupConnections(string connectionString, string? listenConnectionString)
    {
        Publisher = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString)
        {
            ApplicationName = "PushGateway wakeup publisher",
            MaxPoolSize = 1,
            MinPoolSize = 0,
            TcpKeepAlive = true,
            // It only runs SET LOCAL inside its own transaction: no session state to reset (the reset was a
            // DISCARD ALL round trip before every NOTIFY).
            NoResetOnClose = true,
        }.ConnectionString);
        Listener = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(listenConnectionString ?? connectionString)
        {
            ApplicationName = ListenerApplicationName,
            // One physical session for as long as it lives; a dropped one is replaced by a new one, never by a pooled one.
            Pooling = false,
            TcpKeepAlive = true,
            KeepAlive = 15,
        }.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        await Publisher.DisposeAsync();
        await Listener.DisposeAsync();
    }

    public void Dispose()
    {
        Publisher.Dispose();
        Listener.Dispose();
    }
}

/// <summary>
/// Sends the wake-ups <see cref="WorkSignal.Notify"/> asks for, after the work's own commit and outside its
/// transaction: a NOTIFY inside the accepting (or registering) transaction would take PostgreSQL's cluster-wide notify
/// lock for that transaction's commit, WAL flush included, and serialize every such commit (measured with pgbench on
/// the development VM, 32 clients inserting one row per transaction: 4,800–5,100 transactions/s without, 400–680 with
/// a NOTIFY in each). Here all requests that arrive while one NOTIFY is under way, or within
/// <see cref="WakeupOptions.MinimumSpacing"/> of the last, go out together in the next: one short transaction
/// (asynchronous commit, so it does not wait for a WAL flush under that lock) naming each channel once. A wake-up that
/// cannot be sent is dropped: the other replicas poll.
/// </summary>
internal sealed class WakeupPublisher(WakeupConnections connections, Microsoft.Extensions.Options.IOptions<WakeupOptions> options, ILogger<WakeupPublisher> logger)
    : BackgroundService
{
    private readonly SemaphoreSlim _requested = new(0, 1);
    private int _pending;

    /// <summary>NOTIFY transactions sent (for tests and diagnostics).</summary>
    public long Sent => Interlocked.Read(ref _sent);

    private long _sent;

    public void Publish(string channel)
    {
        var bit = WakeupChannels.Bit(channel);
        if ((Interlocked.Or(ref _pending, bit) & bit) != 0)
        {
            return; // already pending: the next NOTIFY covers it
        }

        try
        {
            if (_requested.CurrentCount == 0)
            {
                _requested.Release();
            }
        }
        catch (SemaphoreFullException)
        {
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var spacing = options.Value.MinimumSpacing;
        var sinceLast = Stopwatch.StartNew();
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _requested.WaitAsync(stoppingToken);
                var wait = spacing - sinceLast.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, stoppingToken);
                }

                var bits = Interlocked.Exchange(ref _pending, 0);
                if (bits == 0)
                {
                    continue;
                }

                sinceLast.Restart();
                await SendAsync(bits, stoppingToken);
                Interlocked.Increment(ref _sent);
                if (failing)
                {
                    failing = false;
                    logger.WakeupPublishingRecovered();
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Dropped (the other replicas poll); said once until it works again, not for every request.
                if (!failing)
                {
                    failing = true;
                    logger.WakeupPublishingFailed(ex);
                }

                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private async Task SendAsync(int bits, CancellationToken cancellationToken)
    {
        var notifies = string.Join(", ", WakeupChannels.All
            .Where(c => (bits & WakeupChannels.Bit(c)) != 0)
            .Select(c => $"pg_notify('{c}', '{connections.ReplicaId}')"));
        await using var batch = connections.Publisher.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL synchronous_commit = off"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT " + notifies));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>
/// LISTENs, on one session of its own, on the channels of the loops this replica runs, and wakes them when another
/// replica made work for them. When the session drops it reconnects with backoff (said once, not at every try), and
/// after every (re)connect it wakes each of its loops once, since a notification may have been missed meanwhile.
/// </summary>
internal sealed class WakeupListener(
    WakeupConnections connections, IReadOnlyList<WorkSignal> signals, Microsoft.Extensions.Options.IOptions<WakeupOptions> options, ILogger<WakeupListener> logger)
    : BackgroundService
{
    private int _connects;

    /// <summary>The channels this replica listens on: those of the loops it runs.</summary>
    public IReadOnlyList<string> Channels { get; } = signals.Select(s => s.Channel).Distinct().ToList();

    /// <summary>Sessions opened and listening so far (for tests and diagnostics).</summary>
    public int Connects => Volatile.Read(ref _connects);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var byChannel = signals.GroupBy(s => s.Channel).ToDictionary(g => g.Key, g => g.ToArray());
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await connections.Listener.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) =>
                {
                    if (e.Payload != connections.ReplicaId && byChannel.TryGetValue(e.Channel, out var woken))
                    {
                        foreach (var signal in woken)
                        {
                            signal.NotifyLocal();
                        }
                    }
                };
                await using (var listen = connection.CreateCommand())
                {
                    listen.CommandText = string.Concat(byChannel.Keys.Select(c => $"LISTEN {c};"));
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                Interlocked.Increment(ref _connects);
                if (failures > 0)
                {
                    logger.WakeupListenerReconnected(failures);
                    failures = 0;
                }

                foreach (var signal in signals)
                {
                    signal.NotifyLocal();
                }

                while (!stoppingToken.IsCancellationRequested)
                {
                    if (!await connection.WaitAsync(options.Value.ListenerCheckInterval, stoppingToken))
                    {
                        // Idle for a while: one round trip proves the session is still there (and delivers anything queued).
                        await using var check = connection.CreateCommand();
                        check.CommandText = "SELECT 1";
                        await check.ExecuteScalarAsync(stoppingToken);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                if (failures == 0)
                {
                    logger.WakeupListenerLost(ex);
                }

                failures++;
                // 0.25 s, 0.5 s, 1 s … up to 30 s, with jitter so replicas do not reconnect in step.
                var backoff = TimeSpan.FromMilliseconds(Math.Min(30_000, 250 * Math.Pow(2, Math.Min(failures - 1, 7))) * (0.75 + 0.5 * Random.Shared.NextDouble()));
                try
                {
                    await Task.Delay(backoff, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }
}

/// <summary>Wake-up log messages (event ids 4xxx).</summary>
internal static partial class WakeupLog
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "The wake-up listener lost its PostgreSQL session; reconnecting with backoff, other replicas' work is found by polling meanwhile")]
    public static partial void WakeupListenerLost(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "The wake-up listener is listening again after {Attempts} failed attempt(s)")]
    public static partial void WakeupListenerReconnected(this ILogger logger, int attempts);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Wake-ups for other replicas cannot be sent; they find this replica's work by polling until it works again")]
    public static partial void WakeupPublishingFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "Wake-ups for other replicas are sent again")]
    public static partial void WakeupPublishingRecovered(this ILogger logger);
}
