namespace PushGateway.Quota;

/// <summary>Why a send was refused and when it is worth trying again.</summary>
internal sealed record QuotaRefusal(TimeSpan RetryAfter, string Detail)
{
    /// <summary>Whole seconds for the <c>Retry-After</c> header, at least 1.</summary>
    public int RetryAfterSeconds => Math.Max(1, (int)Math.Ceiling(RetryAfter.TotalSeconds));
}
