using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace PushGateway.Events;

/// <summary>
/// The <c>PushGateway-Signature</c> header: <c>t=&lt;unix seconds&gt;,v1=&lt;lowercase hex HMAC-SHA256 of
/// "&lt;t&gt;.&lt;body&gt;"&gt;</c>, keyed with the UTF-8 bytes of the application's webhook secret. The timestamp is
/// signed too, so a receiver that rejects old timestamps cannot be fed a recorded request later.
/// </summary>
internal static class WebhookSignature
{
    public const string HeaderName = "PushGateway-Signature";

    public static string Header(ReadOnlySpan<byte> key, long timestamp, ReadOnlySpan<byte> body) =>
        $"t={timestamp.ToString(CultureInfo.InvariantCulture)},v1={Compute(key, timestamp, body)}";

    public static string Compute(ReadOnlySpan<byte> key, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.ASCII.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(prefix);
        hmac.AppendData(body);
        Span<byte> mac = stackalloc byte[32];
        hmac.GetHashAndReset(mac);
        return Convert.ToHexStringLower(mac);
    }
}

/// <summary>When a failed webhook is tried again.</summary>
internal static class WebhookBackoff
{
    /// <summary>
    /// <c>Retry-After</c> when the receiver sent one; otherwise exponential backoff (<paramref name="baseDelay"/>
    /// doubling per attempt, capped at <paramref name="maxDelay"/>) with jitter that keeps half to all of it, so
    /// many events failing together do not come back together. <paramref name="random"/> is in [0, 1).
    /// </summary>
    public static TimeSpan Delay(int attempts, TimeSpan? retryAfter, TimeSpan baseDelay, TimeSpan maxDelay, double random)
    {
        if (retryAfter is { } after && after > TimeSpan.Zero)
        {
            return after;
        }

        var exponential = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempts - 1, 0, 62));
        var capped = Math.Min(exponential, maxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + Math.Clamp(random, 0, 1) / 2));
    }
}
