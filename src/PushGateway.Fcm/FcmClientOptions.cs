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
    /// The OAuth 2.0 token endpoint the JWT-bearer grant is posted to (and the JWT's audience), by default Google's,
    /// <c>https://oauth2.googleapis.com/token</c>. It is the operator's setting, never the service account's
    /// <c>token_uri</c>: that field comes from whoever uploaded the key file, and calling it would let them make the
    /// gateway POST to any address (an internal one among them). Point it at the simulator's <c>/token</c> in tests.
    /// </summary>
    public Uri TokenUrl { get; set; } = FcmServiceAccount.DefaultTokenUri;

    /// <summary>
    /// An extra trusted root (the simulator's self-signed certificate). It is trusted for the FCM endpoint
    /// <em>and</em> for the OAuth token endpoint <see cref="TokenUrl"/>.
    /// </summary>
    public X509Certificate2? TrustedCertificate { get; set; }

    /// <summary>
    /// Asked for the extra trusted root at each TLS handshake the system roots refuse; overrides
    /// <see cref="TrustedCertificate"/>. The gateway passes a file watcher here so a replaced certificate is trusted at once.
    /// </summary>
    public Func<X509Certificate2?>? TrustedCertificateSource { get; set; }

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
