namespace PushGateway.Hosting;

internal static class Clock
{
    /// <summary>
    /// Now, truncated to the microsecond PostgreSQL keeps, so a timestamp returned by a write is the same one a
    /// later read returns.
    /// </summary>
    public static DateTimeOffset UtcNow(this TimeProvider time)
    {
        var now = time.GetUtcNow();
        return new DateTimeOffset(now.Ticks - (now.Ticks % 10), TimeSpan.Zero);
    }
}
