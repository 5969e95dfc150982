namespace PushGateway.Delivery;

/// <summary>
/// When a transient failure is tried again: <c>Retry-After</c> when the provider gave one, otherwise exponential
/// backoff from <see cref="DeliveryOptions.RetryBaseDelay"/> doubling per attempt up to
/// <see cref="DeliveryOptions.RetryMaxDelay"/>, with jitter (half to full delay) so that a burst of failures does not
/// come back as one burst. The jitter is passed in (0..1), so the rule is a pure function.
/// </summary>
internal static class RetryPolicy
{
    public static TimeSpan Delay(int attempts, TimeSpan? retryAfter, double jitter, TimeSpan baseDelay, TimeSpan maxDelay)
    {
        if (retryAfter is { } after && after > TimeSpan.Zero)
        {
            return after;
        }

        var exponential = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempts - 1, 0, 40));
        var capped = Math.Min(exponential, maxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + Math.Clamp(jitter, 0, 1) / 2));
    }
}
