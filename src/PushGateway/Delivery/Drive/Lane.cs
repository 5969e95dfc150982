namespace PushGateway.Delivery;

/// <summary>
/// One application's share of this process's sending: its concurrency slots, how many of its deliveries wait for one,
/// and whether its requests have stopped being answered.
/// </summary>
internal sealed class Lane(int concurrency)
{
    private readonly Lock _lock = new();
    private int _outstanding;
    private long _lastProgress;

    public SemaphoreSlim Slots { get; } = new(concurrency, concurrency);
    public int Waiting;

    public void Sending(long now)
    {
        lock (_lock)
        {
            if (_outstanding++ == 0)
            {
                _lastProgress = now;
            }
        }
    }

    public void Answered(long now)
    {
        lock (_lock)
        {
            _outstanding--;
            _lastProgress = now;
        }
    }

    /// <summary>
    /// Requests are outstanding and none has been answered (or timed out) for <see cref="StalledAfter"/>: a
    /// provider outage or a hanging connection. New claims leave this application's rows in the queue, so that
    /// batches holding its requests (and the connections they hold) do not pile up while other applications wait.
    /// </summary>
    public bool IsStalled(TimeProvider time)
    {
        lock (_lock)
        {
            return _outstanding > 0 && time.GetElapsedTime(_lastProgress) > DeliveryWorker.StalledAfter;
        }
    }
}
