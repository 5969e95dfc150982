using System.Collections.Concurrent;
using Npgsql;

namespace PushGateway.Hosting;

/// <summary>
/// One session connection per replica that LISTENs on PostgreSQL notification channels and hands each notification
/// to the subscribers of its channel. NOTIFY is delivered at commit to every listening session of the database, so
/// what one replica changes reaches the others within milliseconds. When the connection drops, <see cref="IsListening"/>
/// turns false (subscribers must not trust what they cached on the strength of notifications), it reconnects with
/// backoff, and every subscriber's reconnect handler runs, since notifications sent meanwhile are lost.
/// </summary>
internal sealed partial class PostgresNotifications : BackgroundService
{
    /// <summary>Shows in pg_stat_activity.application_name (and lets tests find and terminate the listener).</summary>
    public const string ApplicationName = "pushgateway-listener";

    private readonly string _connectionString;
    private readonly ILogger<PostgresNotifications> _logger;
    private readonly ConcurrentDictionary<string, List<Subscription>> _subscriptions = new(StringComparer.Ordinal);
    private volatile bool _listening;

    public PostgresNotifications(string connectionString, ILogger<PostgresNotifications> logger)
    {
        _connectionString = new NpgsqlConnectionStringBuilder(connectionString)
        {
            ApplicationName = ApplicationName,
            Pooling = false,
            // A dead TCP peer (a failed-over primary, a dropped NAT entry) is noticed within about a minute.
            KeepAlive = 30,
        }.ConnectionString;
        _logger = logger;
    }

    /// <summary>True while the listening connection is up: notifications sent now will arrive.</summary>
    public bool IsListening => _listening;

    private sealed record Subscription(Action<string> OnNotification, Action OnReconnect);

    /// <summary>Subscribes before the host starts (the channels are LISTENed to on connect).</summary>
    public void Subscribe(string channel, Action<string> onNotification, Action onReconnect)
    {
        var list = _subscriptions.GetOrAdd(channel, _ => []);
        lock (list)
        {
            list.Add(new Subscription(onNotification, onReconnect));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_connectionString);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, e) => Dispatch(e.Channel, e.Payload);
                await using (var listen = connection.CreateCommand())
                {
                    listen.CommandText = string.Concat(_subscriptions.Keys.Select(c => $"LISTEN \"{c}\";"));
                    if (listen.CommandText.Length > 0)
                    {
                        await listen.ExecuteNonQueryAsync(stoppingToken);
                    }
                }

                _listening = true;
                // Whatever was sent while no one listened is lost: every subscriber starts over.
                foreach (var list in _subscriptions.Values)
                {
                    foreach (var subscription in Snapshot(list))
                    {
                        subscription.OnReconnect();
                    }
                }

                if (failures > 0)
                {
                    Reconnected(_logger, failures);
                }

                failures = 0;
                delay = TimeSpan.FromSeconds(1);
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException or IOException or InvalidOperationException or TimeoutException)
            {
                _listening = false;
                foreach (var list in _subscriptions.Values)
                {
                    foreach (var subscription in Snapshot(list))
                    {
                        subscription.OnReconnect();
                    }
                }

                if (failures++ == 0)
                {
                    Lost(_logger, ex.Message);
                }
            }

            _listening = false;
            try
            {
                await Task.Delay(delay, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
        }

        _listening = false;
    }

    private void Dispatch(string channel, string payload)
    {
        if (_subscriptions.TryGetValue(channel, out var list))
        {
            foreach (var subscription in Snapshot(list))
            {
                subscription.OnNotification(payload);
            }
        }
    }

    private static Subscription[] Snapshot(List<Subscription> list)
    {
        lock (list)
        {
            return [.. list];
        }
    }

    [LoggerMessage(EventId = 7101, Level = LogLevel.Warning, Message = "The PostgreSQL notification listener lost its connection ({Reason}); reconnecting, caches are bypassed meanwhile")]
    private static partial void Lost(ILogger logger, string reason);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Information, Message = "The PostgreSQL notification listener is connected again after {Failures} failed attempts")]
    private static partial void Reconnected(ILogger logger, int failures);
}
