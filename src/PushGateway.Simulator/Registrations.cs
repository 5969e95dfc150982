using System.Security.Cryptography;

namespace PushGateway.Simulator;

/// <summary>A registered APNs signing key (public part only).</summary>
internal sealed class ApnsKey(string keyId, string teamId, ECDsa publicKey, HashSet<string>? topics, ApnsEnvironment environment)
{
    private readonly Lock _verifyLock = new();
    private volatile bool _revoked;

    public string KeyId { get; } = keyId;
    public string TeamId { get; } = teamId;
    public HashSet<string>? Topics { get; } = topics;
    public ApnsEnvironment Environment { get; } = environment;
    public bool Revoked => _revoked;

    public void Revoke() => _revoked = true;

    /// <summary>Verification is rare (cached per connection), so one lock keeps the key object single-threaded.</summary>
    public bool Verify(Security.CompactJwt jwt)
    {
        lock (_verifyLock)
        {
            return jwt.VerifyEs256(publicKey);
        }
    }
}

internal sealed record ApnsCertificateRegistration(string Thumbprint, string BundleId, ApnsEnvironment Environment, DateTimeOffset NotAfter);

internal sealed class FcmServiceAccount(string projectId, string clientEmail, RSA publicKey)
{
    private readonly Lock _verifyLock = new();

    public string ProjectId { get; } = projectId;
    public string ClientEmail { get; } = clientEmail;

    public bool Verify(Security.CompactJwt jwt)
    {
        lock (_verifyLock)
        {
            return jwt.VerifyRs256(publicKey);
        }
    }
}

internal sealed record FcmAccessGrant(string ProjectId, string ClientEmail, DateTimeOffset ExpiresAt);

/// <summary>A token behaviour with its remaining <c>times</c> budget.</summary>
internal sealed class BehaviorEntry(TokenBehavior behavior)
{
    private int _remaining = behavior.Times ?? -1;

    public TokenBehavior Behavior { get; } = behavior;

    /// <summary>Takes one use; false once a <c>times</c> budget is spent.</summary>
    public bool TryConsume()
    {
        if (Behavior.Times is null)
        {
            return true;
        }

        while (true)
        {
            var remaining = Volatile.Read(ref _remaining);
            if (remaining <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _remaining, remaining - 1, remaining) == remaining)
            {
                return true;
            }
        }
    }
}
