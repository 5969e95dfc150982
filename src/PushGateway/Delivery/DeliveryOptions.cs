using System.ComponentModel.DataAnnotations;

namespace PushGateway.Delivery;

/// <summary>The <c>Delivery</c> section: the workers that drain the PostgreSQL queue.</summary>
internal sealed class DeliveryOptions : IValidatableObject
{
    public const string SectionName = "Delivery";

    /// <summary>Run delivery workers in this process (API-only replicas set false).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Deliveries claimed per query.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 1000;

    /// <summary>Deliveries this process holds at once (claimed and not yet recorded).</summary>
    [Range(1, 100_000)]
    public int MaxInFlight { get; set; } = 4000;

    /// <summary>Requests in flight for one application: one slow or failing app cannot take every slot.</summary>
    [Range(1, 10_000)]
    public int PerApplicationConcurrency { get; set; } = 1000;

    /// <summary>HTTP/2 connections one application keeps to APNs (each carries as many streams as APNs allows).</summary>
    [Range(1, 64)]
    public int ApnsConnections { get; set; } = 4;

    /// <summary>Requests in flight to one provider (APNs, FCM) from this process.</summary>
    [Range(1, 50_000)]
    public int PerProviderConcurrency { get; set; } = 3000;

    /// <summary>How long an idle worker waits before looking for due deliveries again (new work in this process wakes it at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Attempts before a delivery that keeps failing transiently ends failed.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 10;

    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often held deliveries are released (application fixed) or expired (TTL over).</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often queue depth and credential health are sampled for /metrics and /readyz.</summary>
    public TimeSpan StatsInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Per-request timeout towards APNs and FCM.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Writers recording results in parallel (each one short transaction per group).</summary>
    [Range(1, 16)]
    public int ResultWriters { get; set; } = 2;

    /// <summary>Most results one writer records in one transaction.</summary>
    [Range(1, 5_000)]
    public int ResultGroupSize { get; set; } = 500;

    /// <summary>
    /// How long a writer that found only a few results waits for more before it commits them: the bound (with the
    /// commit itself) on how long an answered notification stays unrecorded, and so could be sent again after a crash.
    /// </summary>
    public TimeSpan ResultGroupDelay { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// How long a claim holds its deliveries. A worker that dies gives its unrecorded deliveries back when their lease
    /// runs out; a delivery still waiting for a send slot that close to the end of its lease is given back unsent. Must
    /// exceed <see cref="RequestTimeout"/> by a few seconds.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The misconfiguration guard: this many answers of the kinds a configuration mistake produces (APNs
    /// BadDeviceToken / DeviceTokenNotForTopic, FCM SENDER_ID_MISMATCH / invalid-token INVALID_ARGUMENT) for one
    /// application within <see cref="MisconfigurationWindow"/>, making up at least <see cref="MisconfigurationShare"/>
    /// of its answers there, blame the application instead of its devices. 0 turns the guard off.
    /// </summary>
    [Range(0, 1_000_000)]
    public int MisconfigurationMinAnswers { get; set; } = 20;

    /// <summary>The share of the application's answers in the window that must be of those kinds (0..1).</summary>
    [Range(0.0, 1.0)]
    public double MisconfigurationShare { get; set; } = 0.8;

    /// <summary>How far back the guard counts (a window that starts with the first answer counted).</summary>
    public TimeSpan MisconfigurationWindow { get; set; } = TimeSpan.FromMinutes(10);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (LeaseDuration < RequestTimeout + TimeSpan.FromSeconds(5))
        {
            yield return new ValidationResult(
                $"Delivery:LeaseDuration ({LeaseDuration}) must be at least Delivery:RequestTimeout ({RequestTimeout}) plus 5 seconds.",
                [nameof(LeaseDuration)]);
        }
    }
}

/// <summary>Provider endpoints and TLS trust (<c>Apns</c>, <c>Fcm</c>, <c>Providers</c> sections).</summary>
internal sealed class ProviderOptions
{
    public Uri ApnsProductionUrl { get; set; } = new("https://api.push.apple.com/");
    public Uri ApnsSandboxUrl { get; set; } = new("https://api.sandbox.push.apple.com/");
    public Uri FcmBaseUrl { get; set; } = new("https://fcm.googleapis.com/");
    /// <summary><c>Fcm:TokenUrl</c>: where every service account's tokens come from (a key file's token_uri is never called).</summary>
    public Uri FcmTokenUrl { get; set; } = Fcm.FcmServiceAccount.DefaultTokenUri;
    /// <summary>A PEM certificate trusted in addition to the system roots (a simulator's self-signed certificate).</summary>
    public string? TrustedCertificatePath { get; set; }

    /// <summary>The certificate file at <see cref="TrustedCertificatePath"/>, read at start (a bad path stops the start) and again when it changes.</summary>
    public Hosting.TrustedCertificateFile? TrustedCertificate { get; set; }

    public static ProviderOptions Bind(IConfiguration configuration)
    {
        var options = new ProviderOptions();
        if (configuration["Apns:ProductionUrl"] is { Length: > 0 } production)
        {
            options.ApnsProductionUrl = new Uri(production);
        }

        if (configuration["Apns:SandboxUrl"] is { Length: > 0 } sandbox)
        {
            options.ApnsSandboxUrl = new Uri(sandbox);
        }

        if (configuration["Fcm:BaseUrl"] is { Length: > 0 } fcm)
        {
            options.FcmBaseUrl = new Uri(fcm);
        }

        if (configuration["Fcm:TokenUrl"] is { Length: > 0 } tokenUrl)
        {
            options.FcmTokenUrl = new Uri(tokenUrl);
        }

        options.TrustedCertificatePath = configuration["Providers:TrustedCertificatePath"] is { Length: > 0 } path ? path : null;
        if (options.TrustedCertificatePath is { } certificatePath)
        {
            options.TrustedCertificate = Hosting.TrustedCertificateFile.Open(certificatePath);
        }

        return options;
    }
}
