using System.ComponentModel.DataAnnotations;

namespace PushGateway.Retention;

/// <summary>The <c>Retention</c> section: how long message history and idempotency keys are kept.</summary>
internal sealed class RetentionOptions
{
    public const string SectionName = "Retention";

    /// <summary>Run the retention job in this process. Replicas may all run it: they skip each other's locked rows.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// A message with its deliveries (receipts) is deleted this long after it completed: after the last of its
    /// deliveries reached a final state. Messages with a pending or held delivery are never deleted.
    /// </summary>
    public TimeSpan Messages { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Idempotency keys are deleted this long after they were first used: the contract's 24 hours. A shorter value
    /// shortens the replay window too (a deleted key is a new key).
    /// </summary>
    public TimeSpan IdempotencyKeys { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often the job looks for expired history (it runs until nothing is left, then waits this long).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Most rows (deliveries, or idempotency keys) deleted per transaction.</summary>
    [Range(10, 100_000)]
    public int BatchSize { get; set; } = 5000;

    internal static bool IsValid(RetentionOptions o) =>
        o.Messages > TimeSpan.Zero && o.IdempotencyKeys > TimeSpan.Zero && o.Interval > TimeSpan.Zero;
}
