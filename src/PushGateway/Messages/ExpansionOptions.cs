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

    /// <summary>A pause after each batch, to leave the database to the delivery workers; none by default.</summary>
    public TimeSpan BatchPause { get; set; } = TimeSpan.Zero;
}
