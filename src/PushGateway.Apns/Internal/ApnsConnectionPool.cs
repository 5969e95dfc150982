using System.Collections.Concurrent;

namespace PushGateway.Apns.Internal;

/// <summary>A request's hold on a connection; give it back with <see cref="ApnsConnectionPool.Release"/>.</summary>
internal readonly record struct ApnsLease(ApnsConnection Connection, bool IsProbe);

/// <summary>
/// One HTTP/2 connection to APNs: a <see cref="SocketsHttpHandler"/> that keeps a single connection (it reconnects by
/// itself after GOAWAY or a drop), reference-counted so it can be retired while requests are still in flight on it.
/// </summary>
/// <remarks>
/// Requests are admitted only up to the server's SETTINGS_MAX_CONCURRENT_STREAMS. Until a transport's first SETTINGS
/// frame has been read, and after a GOAWAY, a single "probe" request is admitted: SocketsHttpHandler would otherwise
/// open a new connection with up to 100 streams at once before it knows the limit, which a server with a lower limit
/// (APNs allows 1 until the first valid provider token) refuses, and Kestrel answers with a connection error.
/// </remarks>
internal sealed class ApnsConnection
{
    private readonly ApnsConnectionPool _pool;
    private int _references = 1; // the pool's own reference, dropped by Retire
    private int _retired;
    private int _streamLimit = 1;
    private volatile bool _settingsKnown;
    private int _probeTaken;
    private int _generation;

    public ApnsConnection(ApnsConnectionPool pool, Func<ApnsConnection, SocketsHttpHandler> handlerFactory)
    {
        _pool = pool;
        Invoker = new HttpMessageInvoker(handlerFactory(this), disposeHandler: true);
    }

    public HttpMessageInvoker Invoker { get; }

    /// <summary>The server's latest SETTINGS_MAX_CONCURRENT_STREAMS (meaningful once <see cref="SettingsKnown"/>).</summary>
    public int StreamLimit => Volatile.Read(ref _streamLimit);

    public bool SettingsKnown => _settingsKnown;

    public bool IsRetired => Volatile.Read(ref _retired) != 0;

    /// <summary>Requests currently admitted on this connection.</summary>
    public int InFlight => Volatile.Read(ref _references) - (IsRetired ? 0 : 1);

    /// <summary>Guards the first setting of <see cref="Token"/>.</summary>
    public Lock TokenLock { get; } = new();

    /// <summary>The one provider token this connection presents (token auth); set by its first request.</summary>
    public ApnsProviderToken? Token { get; set; }

    /// <summary>Called for each new TLS connection the handler makes; its frames report to the returned listener.</summary>
    public IHttp2FrameListener OnNewTransport()
    {
        var generation = Interlocked.Increment(ref _generation);
        _settingsKnown = false;
        return new TransportListener(this, generation);
    }

    public bool TryAdmitProbe()
    {
        if (_settingsKnown || IsRetired || Interlocked.CompareExchange(ref _probeTaken, 1, 0) != 0)
        {
            return false;
        }

        if (TryAddReference(int.MaxValue))
        {
            return true;
        }

        Volatile.Write(ref _probeTaken, 0);
        return false;
    }

    public bool TryAdmit() => _settingsKnown && !IsRetired && TryAddReference(StreamLimit);

    /// <summary>Drops a request's reference; the handler is disposed with the last one after retirement.</summary>
    public void Release(bool isProbe)
    {
        if (isProbe)
        {
            Volatile.Write(ref _probeTaken, 0);
        }

        if (Interlocked.Decrement(ref _references) == 0)
        {
            Invoker.Dispose();
        }
    }

    /// <summary>Takes the connection out of service; it closes once its last request is done.</summary>
    public void Retire()
    {
        if (Interlocked.Exchange(ref _retired, 1) == 0)
        {
            Release(isProbe: false);
        }
    }

    private bool TryAddReference(int limit)
    {
        var current = Volatile.Read(ref _references);
        while (current > 0 && current - 1 < limit)
        {
            var seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>Frame events of one transport; those of a transport that has since been replaced are ignored.</summary>
    private sealed class TransportListener(ApnsConnection owner, int generation) : IHttp2FrameListener
    {
        public void OnSettings(int? maxConcurrentStreams, bool isFirst)
        {
            if (Volatile.Read(ref owner._generation) != generation)
            {
                return;
            }

            if (maxConcurrentStreams is { } limit)
            {
                Volatile.Write(ref owner._streamLimit, Math.Max(1, limit));
            }
            else if (isFirst)
            {
                // RFC 9113: no value means no limit.
                Volatile.Write(ref owner._streamLimit, int.MaxValue);
            }

            owner._settingsKnown = true;
            owner._pool.WakeAll();
        }

        public void OnGoAway()
        {
            if (Volatile.Read(ref owner._generation) == generation)
            {
                // The handler will open a new transport for the next request: let one through to learn its limit.
                owner._settingsKnown = false;
            }
        }
    }
}

/// <summary>
/// At most <c>maxConnections</c> <see cref="ApnsConnection"/>s. A request goes to the least busy connection with a free
/// stream; a new connection is opened only when every connection is at the server's stream limit; otherwise requests
/// wait here (never inside the handler, whose own queue would burst them onto the next new connection).
/// </summary>
/// <remarks>
/// This replaces <see cref="SocketsHttpHandler.EnableMultipleHttp2Connections"/>: with it the handler opens a further
/// connection whenever all streams are taken, with no upper bound (<see cref="SocketsHttpHandler.MaxConnectionsPerServer"/>
/// applies to HTTP/1.1 only, see dotnet/runtime <c>HttpConnectionPool.CheckForHttp2ConnectionInjection</c>), and APNs
/// cutting its stream limit to 1 after a rejection would then multiply connections.
/// </remarks>
internal sealed class ApnsConnectionPool
{
    private readonly ApnsConnection?[] _connections;
    private readonly Func<ApnsConnection, SocketsHttpHandler> _handlerFactory;
    private readonly Lock _lock = new();
    private readonly ConcurrentQueue<TaskCompletionSource> _waiters = new();
    private int _waiterCount;
    private int _count;
    private int _created;
    private volatile bool _disposed;

    public ApnsConnectionPool(int maxConnections, Func<ApnsConnection, SocketsHttpHandler> handlerFactory)
    {
        _connections = new ApnsConnection?[maxConnections];
        _handlerFactory = handlerFactory;
    }

    /// <summary>Connections opened (or replaced) since the start; for tests and diagnostics.</summary>
    public int Created => Volatile.Read(ref _created);

    public ValueTask<ApnsLease> AcquireAsync(CancellationToken cancellationToken) =>
        TryAcquire(out var lease) ? new ValueTask<ApnsLease>(lease) : WaitAndAcquireAsync(cancellationToken);

    public void Release(ApnsLease lease)
    {
        lease.Connection.Release(lease.IsProbe);
        if (Volatile.Read(ref _waiterCount) > 0)
        {
            WakeOne();
        }
    }

    /// <summary>Puts a fresh connection in the place of <paramref name="connection"/>, which closes once idle.</summary>
    public void Replace(ApnsConnection connection)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            for (var i = 0; i < _count; i++)
            {
                if (ReferenceEquals(_connections[i], connection))
                {
                    Volatile.Write(ref _connections[i], new ApnsConnection(this, _handlerFactory));
                    Interlocked.Increment(ref _created);
                    connection.Retire();
                    break;
                }
            }
        }

        WakeOne();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            for (var i = 0; i < _count; i++)
            {
                _connections[i]!.Retire();
            }
        }

        WakeAll();
    }

    internal void WakeAll()
    {
        while (_waiters.TryDequeue(out var waiter))
        {
            Interlocked.Decrement(ref _waiterCount);
            waiter.TrySetResult();
        }
    }

    private void WakeOne()
    {
        while (_waiters.TryDequeue(out var waiter))
        {
            Interlocked.Decrement(ref _waiterCount);
            if (waiter.TrySetResult())
            {
                return;
            }
        }
    }

    private async ValueTask<ApnsLease> WaitAndAcquireAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Enqueue(waiter);
            Interlocked.Increment(ref _waiterCount);

            // Look again after queueing, so a release in between cannot go unnoticed.
            if (TryAcquire(out var lease))
            {
                if (!waiter.TrySetResult())
                {
                    // Someone woke this waiter already: pass the wake-up on.
                    WakeOne();
                }

                return lease;
            }

            using (cancellationToken.UnsafeRegister(static state => ((TaskCompletionSource)state!).TrySetCanceled(), waiter))
            {
                await waiter.Task.ConfigureAwait(false);
            }

            if (TryAcquire(out lease))
            {
                return lease;
            }
        }
    }

    private bool TryAcquire(out ApnsLease lease)
    {
        for (var attempt = 0; attempt < 4; attempt++)
        {
            ObjectDisposedException.ThrowIf(_disposed, typeof(ApnsClient));
            var count = Volatile.Read(ref _count);
            ApnsConnection? best = null;
            var bestLoad = int.MaxValue;
            var canGrow = count < _connections.Length;
            for (var i = 0; i < count; i++)
            {
                var connection = Volatile.Read(ref _connections[i])!;
                if (!connection.SettingsKnown)
                {
                    // Wait for its SETTINGS rather than open yet another connection.
                    canGrow = false;
                    if (connection.TryAdmitProbe())
                    {
                        lease = new ApnsLease(connection, IsProbe: true);
                        return true;
                    }

                    continue;
                }

                var load = connection.InFlight;
                if (load < connection.StreamLimit)
                {
                    canGrow = false;
                    if (load < bestLoad)
                    {
                        best = connection;
                        bestLoad = load;
                    }
                }
            }

            if (best is not null)
            {
                if (best.TryAdmit())
                {
                    lease = new ApnsLease(best, IsProbe: false);
                    return true;
                }

                continue;
            }

            if (!canGrow)
            {
                break;
            }

            var added = Grow(count);
            if (added is not null && added.TryAdmitProbe())
            {
                lease = new ApnsLease(added, IsProbe: true);
                return true;
            }
        }

        lease = default;
        return false;
    }

    private ApnsConnection? Grow(int seenCount)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, typeof(ApnsClient));
            if (_count != seenCount || _count == _connections.Length)
            {
                // Another caller changed the set meanwhile: look again.
                return null;
            }

            var connection = new ApnsConnection(this, _handlerFactory);
            _connections[_count] = connection;
            Interlocked.Increment(ref _created);
            Volatile.Write(ref _count, _count + 1);
            return connection;
        }
    }
}
