using System.Security.Cryptography.X509Certificates;

namespace PushGateway.Fcm;

/// <summary>Settings of one <see cref="FcmClient"/>. They are read once, when the client is constructed.</summary>
public sealed class FcmClientOptions
{
    /// <summary>The production FCM endpoint, <c>https://fcm.googleapis.com/</c>.</summary>
    public static readonly Uri ProductionUrl = new("https://fcm.googleapis.com/");

    /// <summary>
    /// Base address of the FCM HTTP v1 API; the client posts to <c>{BaseUrl}v1/projects/{project}/messages:send</c>.
    /// Point it at the simulator in tests.
    /// </summary>
    public Uri BaseUrl { get; set; } = ProductionUrl;

    /// <summary>
    /// An extra trusted root (the simulator's self-signed certificate). It is trusted for the FCM endpoint
    /// <em>and</em> for the OAuth token endpoint named by the service account's <c>token_uri</c>.
    /// </summary>
    public X509Certificate2? TrustedCertificate { get; set; }

    /// <summary>
    /// Upper bound for one attempt: getting an access token (if a fresh one is needed) plus the FCM round trip.
    /// When it elapses the answer is a transport failure (<see cref="FcmResponse.IsTransportFailure"/>), not an
    /// exception. Also used as the TCP/TLS connect timeout.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Requests in flight at once through this client; further calls wait for a free slot.</summary>
    public int MaxConcurrentRequests { get; set; } = 1000;

    /// <summary>Clock for access-token expiry, request timeouts and <c>Retry-After</c> dates.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
