using System.ComponentModel.DataAnnotations;

namespace PushGateway.Messages;

/// <summary>The <c>Expansion</c> section: turning accepted fan-outs into deliveries after the 202.</summary>
internal sealed class ExpansionOptions
{
    public const string SectionName = "Expansion";

    /// <summary>Run the expander in this process (on by default in every replica, API-only ones included).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Endpoints expanded per transaction (each commits its deliveries and the expansion's cursor together).</summary>
    [Range(1, 50_000)]
    public int BatchSize { get; set; } = 10_000;

    /// <summary>How often an idle expander looks for fan-outs accepted by other replicas (this one's wake it at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Backpressure: after a batch, the next waits while this many due deliveries (of any tenant) wait unclaimed in the
    /// queue, so a fan-out is never far ahead of the workers. Deliveries are claimed oldest due first, and an
    /// application whose lane is full is skipped by the claims; a bounded backlog is what keeps a single message of
    /// another tenant, queued behind a million-device fan-out, from waiting for the whole of it. 0 = no limit (a
    /// deployment without delivery workers in any replica must set it, or expansions wait for workers).
    /// </summary>
    [Range(0, 10_000_000)]
    public int MaxQueuedAhead { get; set; } = 20_000;

    /// <summary>A pause after each batch, to leave the database to the delivery workers; none by default.</summary>
    public TimeSpan BatchPause { get; set; } = TimeSpan.Zero;
}
