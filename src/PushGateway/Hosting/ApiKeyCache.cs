using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace PushGateway.Hosting;

/// <summary>
/// The project API keys this replica has looked up, by hash, so a request does not pay a database round trip (and a
/// pooled connection) to authenticate. A revocation reaches every replica through the <c>pushgateway_api_keys</c>
/// notification (a trigger on <c>api_keys</c>), and the replica that revokes forgets the key itself before it
/// answers. Bounds on staleness when a notification is missed: nothing is cached or served from the cache while the
/// listener is disconnected, the cache is emptied when it reconnects, and an entry is trusted for at most
/// <see cref="GatewayOptions.ApiKeyCacheSeconds"/>. Unknown keys are never cached (a new key works at once).
/// </summary>
internal sealed class ApiKeyCache
{
    public const string Channel = "pushgateway_api_keys";

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly PostgresNotifications _notifications;
    private readonly TimeProvider _time;
    private readonly TimeSpan _maxAge;
    private long _generation;

    public ApiKeyCache(PostgresNotifications notifications, TimeProvider time, IOptions<GatewayOptions> options)
    {
        _notifications = notifications;
        _time = time;
        _maxAge = TimeSpan.FromSeconds(Math.Max(0, options.Value.ApiKeyCacheSeconds));
        notifications.Subscribe(Channel, Forget, Clear);
    }

    private sealed record Entry(KeyIdentity Identity, long CachedAt);

    private bool Enabled => _maxAge > TimeSpan.Zero && _notifications.IsListening;

    /// <summary>Taken before the database is asked; <see cref="Add"/> stores only if nothing was forgotten since.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    public KeyIdentity? Find(string hash)
    {
        if (!Enabled || !_entries.TryGetValue(hash, out var entry))
        {
            return null;
        }

        if (_time.GetElapsedTime(entry.CachedAt) < _maxAge)
        {
            return entry.Identity;
        }

        _entries.TryRemove(KeyValuePair.Create(hash, entry));
        return null;
    }

    /// <summary>
    /// Caches a key read from the database, unless a revocation arrived since <paramref name="generation"/> (the key
    /// read may be the one just revoked) or the listener is down.
    /// </summary>
    public void Add(string hash, KeyIdentity identity, long generation)
    {
        if (!Enabled)
        {
            return;
        }

        _entries[hash] = new Entry(identity, _time.GetTimestamp());
        if (Generation != generation)
        {
            _entries.TryRemove(hash, out _);
        }
    }

    /// <summary>A key changed (revoked or deleted): its hash comes as the notification's payload.</summary>
    public void Forget(string hash)
    {
        Interlocked.Increment(ref _generation);
        _entries.TryRemove(hash, out _);
    }

    /// <summary>Forgets one key by id (the replica that revokes it, before it answers).</summary>
    public void ForgetKey(Guid keyId)
    {
        Interlocked.Increment(ref _generation);
        foreach (var (hash, entry) in _entries)
        {
            if (entry.Identity.KeyId == keyId)
            {
                _entries.TryRemove(hash, out _);
            }
        }
    }

    public void Clear()
    {
        Interlocked.Increment(ref _generation);
        _entries.Clear();
    }
}
