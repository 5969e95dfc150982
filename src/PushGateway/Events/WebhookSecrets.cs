using System.Collections.Concurrent;
using System.Security.Cryptography;
using PushGateway.Applications;
using PushGateway.Hosting;

namespace PushGateway.Events;

/// <summary>
/// Decrypted webhook secrets, cached per application and keyed by the exact ciphertext: every PATCH of the events
/// settings seals the secret again with a fresh nonce, so a changed ciphertext is a changed (or re-saved) secret and
/// is decrypted again, while an unchanged one costs a byte comparison.
/// </summary>
internal sealed class WebhookSecrets(SecretBox secrets)
{
    private const int MaxEntries = 10_000;
    private readonly ConcurrentDictionary<Guid, Entry> _cache = new();

    private sealed record Entry(byte[] Ciphertext, byte[] Key);

    /// <summary>The HMAC key (UTF-8 bytes of the secret); throws <see cref="CryptographicException"/> if it cannot be opened.</summary>
    public byte[] Get(Guid applicationId, byte[] ciphertext)
    {
        if (_cache.TryGetValue(applicationId, out var entry) && entry.Ciphertext.AsSpan().SequenceEqual(ciphertext))
        {
            return entry.Key;
        }

        var key = secrets.Open(ciphertext, ApplicationsEndpoints.EventsSecretContext(applicationId));
        if (_cache.Count >= MaxEntries)
        {
            // Rare (that many applications with webhooks in one process); rebuilding is cheap.
            _cache.Clear();
        }

        _cache[applicationId] = new Entry(ciphertext, key);
        return key;
    }
}
