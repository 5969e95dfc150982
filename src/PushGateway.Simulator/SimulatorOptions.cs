using Microsoft.Extensions.Logging;

namespace PushGateway.Simulator;

/// <summary>
/// Start options of the simulator. In-process every port defaults to 0 (a free port picked by the OS);
/// the standalone program binds the <c>Simulator</c> configuration section over the fixed defaults of the contract.
/// </summary>
public sealed class SimulatorOptions
{
    /// <summary>Bind address; <c>0.0.0.0</c> in compose.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Plays <c>api.push.apple.com</c> (HTTPS, HTTP/2 only).</summary>
    public int ApnsProductionPort { get; set; }

    /// <summary>Plays <c>api.sandbox.push.apple.com</c> (HTTPS, HTTP/2 only).</summary>
    public int ApnsSandboxPort { get; set; }

    /// <summary>Plays <c>fcm.googleapis.com</c> and Google's OAuth token endpoint (HTTPS, HTTP/1.1 and HTTP/2).</summary>
    public int FcmPort { get; set; }

    /// <summary>The plain HTTP/1.1 control API.</summary>
    public int ControlPort { get; set; }

    /// <summary>Where the PEM of the generated server certificate is written; null = a temporary file.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Extra DNS names for the server certificate (<c>localhost</c>, 127.0.0.1 and ::1 are always in it).</summary>
    public IList<string> CertificateHostNames { get; set; } = new List<string>();

    /// <summary>SETTINGS_MAX_CONCURRENT_STREAMS advertised on every connection at start.</summary>
    public int MaxConcurrentStreams { get; set; } = 1000;

    /// <summary>Whether requests are kept in the received list at start.</summary>
    public bool RecordRequests { get; set; } = true;

    /// <summary>Capacity of the received list at start.</summary>
    public int ReceivedCapacity { get; set; } = 10_000;

    /// <summary>Base URL written as <c>token_uri</c> into generated service-account JSON; null = derived from the FCM listener.</summary>
    public string? PublicFcmUrl { get; set; }

    /// <summary>Clock for JWT <c>iat</c>/<c>exp</c>, access-token expiry and the 20-minute token-update rule.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Logging for the simulator and its Kestrel server; null = no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}
