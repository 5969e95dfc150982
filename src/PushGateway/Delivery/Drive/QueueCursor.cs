namespace PushGateway.Delivery;

/// <summary>
/// Where a worker's next claim starts in the queue's (next_attempt_at, id) order. It goes back to the start whenever a
/// claim comes back short and every few seconds, so rows behind it (a crashed worker's expired leases, skipped
/// applications) are found again.
/// </summary>
internal sealed class QueueCursor(TimeProvider time, TimeSpan rewindEvery)
{
    private long _rewoundAt = time.GetTimestamp();

    public DateTimeOffset After { get; private set; } = DateTimeOffset.MinValue;
    public long AfterId { get; private set; }

    public bool AtStart => After == DateTimeOffset.MinValue;

    public void Advance(DateTimeOffset at, long id)
    {
        After = at;
        AfterId = id;
    }

    /// <summary>Rewinds if the last claim was short or it has been a while.</summary>
    public void AfterClaim(int claimed, int limit)
    {
        if (claimed < limit || time.GetElapsedTime(_rewoundAt) > rewindEvery)
        {
            After = DateTimeOffset.MinValue;
            AfterId = 0;
            _rewoundAt = time.GetTimestamp();
        }
    }
}
