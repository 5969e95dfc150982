using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;

namespace PushGateway.Apns;

/// <summary>
/// Shared cache of ES256 provider tokens (JWT), one per key: every <see cref="ApnsClient"/> given this cache that uses
/// the same key (team id, key id, private key) presents the same token. Apple asks to renew the token no more often
/// than every 20 minutes and no less often than every 60; a token is renewed once it is 50 minutes old, and at once
/// when APNs answered 403 <c>ExpiredProviderToken</c> to that very token (<see cref="Invalidate"/>).
/// <see href="https://developer.apple.com/documentation/usernotifications/establishing-a-token-based-connection-to-apns"/>
/// </summary>
public sealed class ApnsProviderTokenCache
{
    /// <summary>Age at which a token is replaced on its next use.</summary>
    public static TimeSpan RenewAfter { get; } = TimeSpan.FromMinutes(50);

    /// <summary>The shortest interval between two renewals of one key's token, except after <see cref="Invalidate"/>.</summary>
    public static TimeSpan MinimumRenewalInterval { get; } = TimeSpan.FromMinutes(20);

    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentDictionary<(string TeamId, string KeyId, string Pem), Entry> _entries = new();

    /// <summary>Creates an empty cache.</summary>
    /// <param name="timeProvider">The clock for <c>iat</c> and token age; share it with the clients using this cache.</param>
    public ApnsProviderTokenCache(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
    }

    /// <summary>The current token (JWT) for the key, made or renewed when needed.</summary>
    /// <exception cref="ArgumentException">The credentials are incomplete or the key is not a P-256 PEM key.</exception>
    public string GetToken(ApnsTokenCredentials credentials) => GetEntry(credentials).Current().Jwt;

    /// <summary>
    /// Discards <paramref name="jwt"/> after APNs answered 403 <c>ExpiredProviderToken</c> to it, so the next use makes
    /// a new token at once. Does nothing (returns false) if the key's token has already moved on.
    /// </summary>
    public bool Invalidate(ApnsTokenCredentials credentials, string jwt)
    {
        ArgumentNullException.ThrowIfNull(jwt);
        return GetEntry(credentials).Invalidate(jwt);
    }

    internal Entry GetEntry(ApnsTokenCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentException.ThrowIfNullOrWhiteSpace(credentials.TeamId, "credentials.TeamId");
        ArgumentException.ThrowIfNullOrWhiteSpace(credentials.KeyId, "credentials.KeyId");
        ArgumentException.ThrowIfNullOrWhiteSpace(credentials.PrivateKeyPem, "credentials.PrivateKeyPem");
        var key = (credentials.TeamId, credentials.KeyId, credentials.PrivateKeyPem);
        if (_entries.TryGetValue(key, out var entry))
        {
            return entry;
        }

        // Import outside GetOrAdd so a bad key throws to the caller without poisoning the dictionary.
        var created = new Entry(credentials.TeamId, credentials.KeyId, ImportKey(credentials.PrivateKeyPem), _timeProvider);
        return _entries.GetOrAdd(key, created);
    }

    private static ECDsa ImportKey(string pem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            // The message must not quote the PEM.
            throw new ArgumentException("credentials.PrivateKeyPem is not a PEM-encoded EC private key (.p8).", "credentials", e);
        }

        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new ArgumentException("credentials.PrivateKeyPem must be a P-256 key: APNs accepts only ES256.", "credentials");
        }

        return key;
    }

    /// <summary>The tokens of one key.</summary>
    internal sealed class Entry(string teamId, string keyId, ECDsa key, TimeProvider timeProvider)
    {
        private readonly Lock _lock = new();
        private ApnsProviderToken? _current;

        public ApnsProviderToken Current()
        {
            var now = timeProvider.GetUtcNow();
            var token = Volatile.Read(ref _current);
            if (token is not null && now - token.IssuedAt < RenewAfter)
            {
                return token;
            }

            lock (_lock)
            {
                token = _current;
                if (token is null || now - token.IssuedAt >= RenewAfter)
                {
                    token = Create(now);
                    Volatile.Write(ref _current, token);
                }

                return token;
            }
        }

        public bool Invalidate(string jwt)
        {
            lock (_lock)
            {
                if (_current is null || !string.Equals(_current.Jwt, jwt, StringComparison.Ordinal))
                {
                    return false;
                }

                _current = null;
                return true;
            }
        }

        private ApnsProviderToken Create(DateTimeOffset now)
        {
            // iat in whole seconds; the token's age is measured from that same instant.
            var iat = now.ToUnixTimeSeconds();
            var buffer = new ArrayBufferWriter<byte>(256);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("alg", "ES256");
                writer.WriteString("kid", keyId);
                writer.WriteEndObject();
            }

            var header = Base64Url.EncodeToString(buffer.WrittenSpan);
            buffer.ResetWrittenCount();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("iss", teamId);
                writer.WriteNumber("iat", iat);
                writer.WriteEndObject();
            }

            var signingInput = header + "." + Base64Url.EncodeToString(buffer.WrittenSpan);
            var signature = key.SignData(
                System.Text.Encoding.ASCII.GetBytes(signingInput),
                HashAlgorithmName.SHA256,
                DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            var jwt = signingInput + "." + Base64Url.EncodeToString(signature);
            return new ApnsProviderToken(jwt, DateTimeOffset.FromUnixTimeSeconds(iat));
        }
    }
}

/// <summary>One signed provider token and the header value that carries it.</summary>
internal sealed class ApnsProviderToken(string jwt, DateTimeOffset issuedAt)
{
    public string Jwt { get; } = jwt;

    public DateTimeOffset IssuedAt { get; } = issuedAt;

    // Built once per token so every request reuses the same string instance.
    public string AuthorizationValue { get; } = "bearer " + jwt;
}
