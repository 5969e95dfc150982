namespace PushGateway.Apns.Internal;

/// <summary>
/// One HTTP/2 connection to APNs: a <see cref="SocketsHttpHandler"/> that keeps a single connection (it reconnects by
/// itself after GOAWAY or a drop), reference-counted so it can be retired while requests are still in flight on it.
/// </summary>
internal sealed class ApnsConnection
{
    // RFC 9113 recommends servers allow at least 100; SocketsHttpHandler assumes the same until SETTINGS arrive.
    private const int DefaultStreamLimit = 100;

    private readonly HttpMessageInvoker _invoker;
    private int _references = 1; // the pool's own reference, dropped by Retire
    private int _retired;
    private int _streamLimit = DefaultStreamLimit;

    public ApnsConnection(Func<ApnsConnection, SocketsHttpHandler> handlerFactory)
    {
        _invoker = new HttpMessageInvoker(handlerFactory(this), disposeHandler: true);
    }

    public HttpMessageInvoker Invoker => _invoker;

    /// <summary>The server's latest SETTINGS_MAX_CONCURRENT_STREAMS on this connection.</summary>
    public int StreamLimit => Volatile.Read(ref _streamLimit);

    public bool IsRetired => Volatile.Read(ref _retired) != 0;

    /// <summary>Requests currently using this connection.</summary>
    public int InFlight => Volatile.Read(ref _references) - (IsRetired ? 0 : 1);

    /// <summary>Guards <see cref="Token"/> and <see cref="TokenSince"/> changes.</summary>
    public Lock TokenLock { get; } = new();

    /// <summary>The provider token last presented on this connection (token auth).</summary>
    public ApnsProviderToken? Token { get; set; }

    /// <summary>When <see cref="Token"/> was first presented here; APNs allows one token change per 20 minutes per connection.</summary>
    public DateTimeOffset TokenSince { get; set; }

    public void OnMaxConcurrentStreams(int value) => Volatile.Write(ref _streamLimit, Math.Max(1, value));

    public bool TryAcquire()
    {
        var current = Volatile.Read(ref _references);
        while (current > 0)
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

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            _invoker.Dispose();
        }
    }

    /// <summary>Takes the connection out of service; it closes once its last request is done.</summary>
    public void Retire()
    {
        if (Interlocked.Exchange(ref _retired, 1) == 0)
        {
            Release();
        }
    }
}

/// <summary>
/// At most <c>maxConnections</c> <see cref="ApnsConnection"/>s. A request goes to the least busy connection; a new
/// connection is added only when that one already carries as many requests as its server allows streams.
/// </summary>
/// <remarks>
/// This replaces <see cref="SocketsHttpHandler.EnableMultipleHttp2Connections"/>: with it the handler opens a further
/// connection whenever all streams are taken, with no upper bound (<see cref="SocketsHttpHandler.MaxConnectionsPerServer"/>
/// applies to HTTP/1.1 only), and APNs cutting its stream limit to 1 after a rejection would then multiply connections.
/// </remarks>
internal sealed class ApnsConnectionPool(int maxConnections, Func<ApnsConnection, SocketsHttpHandler> handlerFactory)
{
    private readonly ApnsConnection?[] _connections = new ApnsConnection?[maxConnections];
    private readonly Lock _lock = new();
    private int _count;
    private volatile bool _disposed;

    /// <summary>Connections opened (or replaced) since the start; for tests and diagnostics.</summary>
    public int Created { get; private set; }

    public int Count => Volatile.Read(ref _count);

    /// <summary>A connection with a reference taken for the caller, who must <see cref="ApnsConnection.Release"/> it.</summary>
    public ApnsConnection Acquire()
    {
        while (true)
        {
            ObjectDisposedException.ThrowIf(_disposed, typeof(ApnsClient));
            var count = Volatile.Read(ref _count);
            ApnsConnection? best = null;
            var bestLoad = int.MaxValue;
            for (var i = 0; i < count; i++)
            {
                var candidate = Volatile.Read(ref _connections[i])!;
                var load = candidate.InFlight;
                if (load < bestLoad)
                {
                    best = candidate;
                    bestLoad = load;
                }
            }

            if (best is null || (bestLoad >= best.StreamLimit && count < _connections.Length))
            {
                best = Grow(count) ?? best;
                if (best is null)
                {
                    continue;
                }
            }

            if (best.TryAcquire())
            {
                if (!best.IsRetired)
                {
                    return best;
                }

                best.Release();
            }
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
                    Volatile.Write(ref _connections[i], new ApnsConnection(handlerFactory));
                    Created++;
                    connection.Retire();
                    return;
                }
            }
        }
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

            var connection = new ApnsConnection(handlerFactory);
            _connections[_count] = connection;
            Created++;
            Volatile.Write(ref _count, _count + 1);
            return connection;
        }
    }
}
