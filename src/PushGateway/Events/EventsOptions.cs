using System.ComponentModel.DataAnnotations;

namespace PushGateway.Events;

/// <summary>The <c>Events</c> section: the webhook dispatcher that drains the <c>events</c> outbox.</summary>
internal sealed class EventsOptions
{
    public const string SectionName = "Events";

    /// <summary>Run the webhook dispatcher and event retention in this process (API-only replicas may set false).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Let webhooks reach loopback, private (10/8, 172.16/12, 192.168/16, 100.64/10) and unique-local (fc00::/7)
    /// addresses: for a developer's receiver on the same machine (local mode turns it on unless set) or an on-prem
    /// installation whose backends live on a private network. Link-local (the cloud metadata address among them),
    /// unspecified, multicast and broadcast addresses stay refused either way. See <see cref="WebhookAddressPolicy"/>.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>One webhook POST may take this long (connect, send, response headers) before it counts as failed.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>An event that still fails this long after it was created ends <c>failed</c>.</summary>
    public TimeSpan RetryWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>First retry delay; doubles with every attempt (with jitter) up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Delivered and skipped events older than this are deleted; failed and pending ones are kept.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often retention runs.</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long an idle dispatcher waits before looking for due events again.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A claimed event belongs to its dispatcher this long; after a crash another replica takes it.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Pending events examined per claim.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 200;

    /// <summary>Webhook requests this process has in flight (or waiting for their application's turn) at once.</summary>
    [Range(1, 10_000)]
    public int MaxConcurrency { get; set; } = 64;

    /// <summary>Requests in flight to one application's webhook: a slow or dead webhook only ever holds this many.</summary>
    [Range(1, 1_000)]
    public int PerApplicationConcurrency { get; set; } = 4;

    /// <summary>
    /// Size of the dispatcher's own connection pool, separate from the API's, so a webhook backlog never takes the
    /// connections the API and delivery need.
    /// </summary>
    [Range(2, 100)]
    public int MaxDatabaseConnections { get; set; } = 4;

    internal static bool IsValid(EventsOptions o) =>
        o.RequestTimeout > TimeSpan.Zero
        && o.RetryWindow > TimeSpan.Zero
        && o.RetryBaseDelay > TimeSpan.Zero
        && o.RetryMaxDelay >= o.RetryBaseDelay
        && o.Retention > TimeSpan.Zero
        && o.RetentionInterval > TimeSpan.Zero
        && o.PollInterval > TimeSpan.Zero
        // The lease must cover waiting for a lane slot and the request itself, or a slow send would be sent twice.
        && o.LeaseDuration >= 2 * o.RequestTimeout;
}
