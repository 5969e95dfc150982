using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using PushGateway.Apns.Internal;

namespace PushGateway.Apns;

/// <summary>The <c>interruption-level</c> of an alert (iOS 15+).</summary>
public enum ApnsInterruptionLevel
{
    /// <summary><c>passive</c>: added to the list without lighting the screen or playing a sound.</summary>
    Passive,

    /// <summary><c>active</c>: the default; lights up the screen and can play a sound.</summary>
    Active,

    /// <summary><c>time-sensitive</c>: may break through focus modes.</summary>
    TimeSensitive,

    /// <summary><c>critical</c>: bypasses the mute switch; needs Apple's entitlement.</summary>
    Critical,
}

/// <summary>
/// Builds the JSON payload: the <c>aps</c> dictionary with Apple's hyphenated keys, plus custom keys beside it.
/// <see href="https://developer.apple.com/documentation/usernotifications/generating-a-remote-notification"/>
/// </summary>
/// <remarks>
/// <see cref="BuildObject"/> returns a <see cref="JsonObject"/> so callers can merge raw keys over it; <see cref="Build"/>
/// serializes it (UTF-8 written as is, not <c>\u</c>-escaped, which keeps non-ASCII text within the byte limit) and
/// enforces <see cref="ApnsPayloadLimits"/>.
/// </remarks>
public sealed class ApnsPayloadBuilder
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // APNs payloads are not HTML; escaping non-ASCII text would multiply its size against the byte limit.
        Encoder = PushGateway.Providers.MinimalJsonEncoder.Instance,
    };

    private readonly Dictionary<string, JsonNode?> _customKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonNode?> _apsKeys = new(StringComparer.Ordinal);

    /// <summary><c>aps.alert.title</c>.</summary>
    public string? AlertTitle { get; set; }

    /// <summary><c>aps.alert.subtitle</c>.</summary>
    public string? AlertSubtitle { get; set; }

    /// <summary><c>aps.alert.body</c>.</summary>
    public string? AlertBody { get; set; }

    /// <summary><c>aps.badge</c>; 0 clears the badge, null leaves it unchanged.</summary>
    public int? Badge { get; set; }

    /// <summary><c>aps.sound</c>: a sound file name, or <c>default</c>.</summary>
    public string? Sound { get; set; }

    /// <summary><c>aps.category</c>: the notification category (actions).</summary>
    public string? Category { get; set; }

    /// <summary><c>aps.thread-id</c>: groups notifications.</summary>
    public string? ThreadId { get; set; }

    /// <summary><c>aps.content-available: 1</c>: a background update (send with push type background, priority 5).</summary>
    public bool ContentAvailable { get; set; }

    /// <summary><c>aps.mutable-content: 1</c>: runs the notification service extension.</summary>
    public bool MutableContent { get; set; }

    /// <summary><c>aps.interruption-level</c>.</summary>
    public ApnsInterruptionLevel? InterruptionLevel { get; set; }

    /// <summary><c>aps.relevance-score</c>, 0 to 1.</summary>
    public double? RelevanceScore { get; set; }

    /// <summary><c>aps.target-content-id</c>: the window to bring forward.</summary>
    public string? TargetContentId { get; set; }

    /// <summary>
    /// Sets a custom key beside <c>aps</c> (APNs ignores custom keys inside <c>aps</c>). A null value writes JSON null;
    /// use <see cref="RemoveCustomKey"/> to drop a key.
    /// </summary>
    /// <exception cref="ArgumentException">The key is empty or is <c>aps</c>.</exception>
    public ApnsPayloadBuilder SetCustomKey(string key, JsonNode? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (key == "aps")
        {
            throw new ArgumentException("\"aps\" is reserved; use the builder's properties or SetApsKey.", nameof(key));
        }

        _customKeys[key] = value;
        return this;
    }

    /// <summary>Removes a custom key.</summary>
    public bool RemoveCustomKey(string key) => _customKeys.Remove(key);

    /// <summary>
    /// Sets an <c>aps</c> key the builder does not model (e.g. Live Activity <c>event</c>, <c>content-state</c>,
    /// <c>timestamp</c>, <c>stale-date</c>); it overrides the property of the same key.
    /// </summary>
    public ApnsPayloadBuilder SetApsKey(string key, JsonNode? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        _apsKeys[key] = value;
        return this;
    }

    /// <summary>The payload as a JSON object: <c>{"aps": {...}, custom keys...}</c>.</summary>
    public JsonObject BuildObject()
    {
        var aps = new JsonObject();
        if (AlertTitle is not null || AlertSubtitle is not null || AlertBody is not null)
        {
            var alert = new JsonObject();
            AddIfNotNull(alert, "title", AlertTitle);
            AddIfNotNull(alert, "subtitle", AlertSubtitle);
            AddIfNotNull(alert, "body", AlertBody);
            aps["alert"] = alert;
        }

        if (Badge is { } badge)
        {
            aps["badge"] = badge;
        }

        AddIfNotNull(aps, "sound", Sound);
        AddIfNotNull(aps, "category", Category);
        AddIfNotNull(aps, "thread-id", ThreadId);
        if (ContentAvailable)
        {
            aps["content-available"] = 1;
        }

        if (MutableContent)
        {
            aps["mutable-content"] = 1;
        }

        if (InterruptionLevel is { } level)
        {
            aps["interruption-level"] = level switch
            {
                ApnsInterruptionLevel.Passive => "passive",
                ApnsInterruptionLevel.Active => "active",
                ApnsInterruptionLevel.TimeSensitive => "time-sensitive",
                ApnsInterruptionLevel.Critical => "critical",
                _ => throw new InvalidOperationException($"Unknown interruption level {level}."),
            };
        }

        if (RelevanceScore is { } score)
        {
            aps["relevance-score"] = score;
        }

        AddIfNotNull(aps, "target-content-id", TargetContentId);
        foreach (var (key, value) in _apsKeys)
        {
            aps[key] = value?.DeepClone();
        }

        var root = new JsonObject { ["aps"] = aps };
        foreach (var (key, value) in _customKeys)
        {
            root[key] = value?.DeepClone();
        }

        return root;
    }

    /// <summary>Serializes <see cref="BuildObject"/> to UTF-8 and checks the size limit of <paramref name="pushType"/>.</summary>
    /// <exception cref="ApnsPayloadTooLargeException">The payload is larger than <see cref="ApnsPayloadLimits.MaxBytes"/>.</exception>
    public byte[] Build(ApnsPushType pushType = ApnsPushType.Alert) => Serialize(BuildObject(), pushType);

    /// <summary>Serializes any payload object (e.g. <see cref="BuildObject"/> with raw keys merged) and checks its size.</summary>
    /// <exception cref="ApnsPayloadTooLargeException">The payload is larger than <see cref="ApnsPayloadLimits.MaxBytes"/>.</exception>
    public static byte[] Serialize(JsonObject payload, ApnsPushType pushType = ApnsPushType.Alert)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            payload.WriteTo(writer);
        }

        var max = ApnsPayloadLimits.MaxBytes(pushType);
        if (buffer.WrittenCount > max)
        {
            throw new ApnsPayloadTooLargeException(buffer.WrittenCount, max);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void AddIfNotNull(JsonObject target, string key, string? value)
    {
        if (value is not null)
        {
            target[key] = value;
        }
    }
}
