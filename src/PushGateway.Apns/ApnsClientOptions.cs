using System.Security.Cryptography.X509Certificates;

namespace PushGateway.Apns;

/// <summary>Settings of one <see cref="ApnsClient"/>.</summary>
public sealed class ApnsClientOptions
{
    /// <summary><c>https://api.push.apple.com/</c>.</summary>
    public static readonly Uri ProductionUrl = new("https://api.push.apple.com/");

    /// <summary><c>https://api.sandbox.push.apple.com/</c> (development environment).</summary>
    public static readonly Uri SandboxUrl = new("https://api.sandbox.push.apple.com/");

    /// <summary>The APNs endpoint (production, sandbox, or a simulator). Apple also listens on port 2197.</summary>
    public Uri BaseUrl { get; set; } = ProductionUrl;

    /// <summary>An extra trusted root for the server certificate (a simulator's self-signed certificate); null = system roots only.</summary>
    public X509Certificate2? TrustedCertificate { get; set; }

    /// <summary>
    /// Asked for the extra trusted root at each TLS handshake the system roots refuse; overrides
    /// <see cref="TrustedCertificate"/>. The gateway passes a file watcher here so a replaced certificate is trusted at once.
    /// </summary>
    public Func<X509Certificate2?>? TrustedCertificateSource { get; set; }

    /// <summary>How long one request may take, queueing included. A timeout is a transport failure, never an exception.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>TCP connect plus TLS handshake timeout of a new connection.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Upper bound of HTTP/2 connections this client keeps open. A new one is opened only when every open connection
    /// already carries as many requests as the server's SETTINGS_MAX_CONCURRENT_STREAMS allows.
    /// </summary>
    public int MaxConnections { get; set; } = 8;

    /// <summary>Requests in flight over all connections; callers beyond it wait (the wait counts toward <see cref="RequestTimeout"/>).</summary>
    public int MaxConcurrentRequests { get; set; } = 2000;

    /// <summary>The clock for provider tokens, timeouts and Retry-After dates.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
