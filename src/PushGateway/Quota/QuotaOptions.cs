using System.ComponentModel.DataAnnotations;

namespace PushGateway.Quota;

/// <summary>The <c>Quota</c> section: optional per-project send limits, the same for every project; 0 turns one off.</summary>
internal sealed class QuotaOptions
{
    public const string SectionName = "Quota";

    /// <summary>
    /// Messages a project may send per second (a token bucket per project holding one second's worth; a batch counts
    /// each of its messages). Per process: N replicas that take requests let a project send N times this. 0: no limit.
    /// </summary>
    [Range(0, 1_000_000)]
    public int MessagesPerSecond { get; set; }

    /// <summary>
    /// Sends are refused while a project has this many deliveries queued (pending or held) or more. The count is
    /// refreshed every <see cref="RefreshInterval"/>, so it can be that much out of date. 0: no limit.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long MaxQueuedDeliveries { get; set; }

    /// <summary>How often the queued deliveries per project are counted (only when <see cref="MaxQueuedDeliveries"/> is set).</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    internal static bool IsValid(QuotaOptions o) => o.RefreshInterval > TimeSpan.Zero && o.RefreshInterval <= TimeSpan.FromMinutes(1);
}
