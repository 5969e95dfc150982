using Microsoft.AspNetCore.Connections.Features;

namespace PushGateway.Simulator.Apns;

/// <summary>Per-connection APNs state, created by a connection middleware after the TLS handshake.</summary>
internal sealed class ApnsConnection(ApnsEnvironment environment, IConnectionLifetimeNotificationFeature? lifetime)
{
    /// <summary>Key under which the state sits in the connection's items.</summary>
    public static readonly object ItemKey = new();

    private int _goAwayRequested;

    public ApnsEnvironment Environment { get; } = environment;

    /// <summary>Requests in flight on this connection right now.</summary>
    public int InFlight;

    /// <summary>Requests seen on this connection.</summary>
    public int Requests;

    /// <summary>The last JWT whose signature was verified on this connection (the verification cache).</summary>
    public volatile VerifiedJwt? LastVerified;

    /// <summary>The JWT currently in use on this connection and when it became current (TooManyProviderTokenUpdates).</summary>
    public volatile string? CurrentJwt;

    public DateTimeOffset CurrentJwtSince;

    /// <summary>The first team that pushed on this connection.</summary>
    public string? PinnedTeam;

    public readonly Lock AuthLock = new();

    /// <summary>Thumbprint of the TLS client certificate, resolved once; empty = none.</summary>
    public string? ClientCertificateThumbprint;

    /// <summary>Sends GOAWAY (graceful close) once; true when this call asked for it.</summary>
    public bool RequestGoAway()
    {
        if (lifetime is null || Interlocked.Exchange(ref _goAwayRequested, 1) != 0)
        {
            return false;
        }

        lifetime.RequestClose();
        return true;
    }
}

/// <summary>A JWT whose ES256 signature, kid and iss were verified against <see cref="Key"/>.</summary>
internal sealed record VerifiedJwt(string Jwt, ApnsKey Key, long IssuedAt);
