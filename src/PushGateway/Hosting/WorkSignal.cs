namespace PushGateway.Hosting;

/// <summary>
/// Wakes a background loop as soon as work was made for it: in this process at once, and in every other replica
/// through <see cref="WakeupPublisher"/> (a PostgreSQL NOTIFY on <see cref="Channel"/>, which their
/// <see cref="WakeupListener"/> turns into <see cref="NotifyLocal"/>). Polling stays the fallback. At most one wake-up
/// is pending, however often <see cref="Notify"/> is called.
/// </summary>
internal abstract class WorkSignal(string channel, WakeupPublisher? publisher)
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    /// <summary>The NOTIFY channel of this kind of work.</summary>
    public string Channel { get; } = channel;

    /// <summary>Work was committed: wake this process's loop and, coalesced, the other replicas' ones.</summary>
    public void Notify()
    {
        NotifyLocal();
        publisher?.Publish(Channel);
    }

    /// <summary>Wakes this process's loop only (another replica made the work, or a notification may have been missed).</summary>
    public void NotifyLocal()
    {
        try
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    /// <summary>Waits for a signal or the timeout, whichever comes first.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}
