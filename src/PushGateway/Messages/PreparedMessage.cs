using System.Text.Json;
using System.Text.Json.Nodes;
using PushGateway.Apns;
using PushGateway.Data;
using PushGateway.Fcm;
using PushGateway.Hosting;
using PushGateway.Topics;

namespace PushGateway.Messages;

/// <summary>
/// A validated message with its provider payloads built once, at accept time: the APNs JSON (bytes, headers) and
/// the FCM v1 message without its target. The workers only add the token, topic and remaining TTL.
/// </summary>
internal sealed record PreparedMessage(
    string TargetKind,
    JsonObject Target,
    int TtlSeconds,
    byte[] ApnsPayload,
    ApnsPushType ApnsPushType,
    int ApnsPriority,
    string? ApnsTopic,
    string? CollapseKey,
    JsonObject FcmMessage)
{
    /// <summary>Default and largest TTL: FCM's maximum (4 weeks); APNs keeps notifications for about 30 days.</summary>
    public const int MaxTtlSeconds = 2_419_200;
    public const int MaxListTargets = 1000;

    /// <summary>Field caps sit above the platform limits, so that an oversize payload is a 413, not a 400.</summary>
    private const int MaxTextLength = 65_536;

    /// <summary>APNs: apns-collapse-id is at most 64 bytes; the value is ASCII, so 64 characters.</summary>
    private const int MaxCollapseKeyLength = 64;

    /// <summary>A bundle id (at most 155 characters) plus the longest push type suffix, with room to spare.</summary>
    private const int MaxTopicLength = 255;

    private static readonly JsonSerializerOptions PayloadJson = new() { Encoder = PushGateway.Providers.MinimalJsonEncoder.Instance };
    private static readonly HashSet<string> FcmReservedDataKeys = ["from", "message_type", "notification", "collapse_key", "priority", "time_to_live"];

    public Guid? EndpointId => Target["endpointId"]?.GetValue<Guid>();

    public string FcmMessageJson => FcmMessage.ToJsonString(PayloadJson);

    /// <summary>Checks a request and builds its payloads; null (with errors in <paramref name="v"/>) when it is invalid.</summary>
    public static PreparedMessage? Prepare(MessageRequest r, Validation v)
    {
        var (kind, target) = CheckTarget(r.Target, v);
        CheckNotification(r.Notification, v);
        CheckData(r.Data, v);
        if (r.TtlSeconds is < 0 or > MaxTtlSeconds)
        {
            v.Add("ttlSeconds", $"From 0 to {MaxTtlSeconds} (4 weeks).");
        }

        if (r.Priority is not (null or "high" or "normal"))
        {
            v.Add("priority", "Must be \"high\" or \"normal\".");
        }

        // Both become header values (APNs apns-collapse-id, apns-topic): a CR/LF or a non-ASCII character there is
        // not a request APNs refuses but one that cannot be sent (it took the HTTP/2 connection down, or was retried
        // as a transport failure), so only what can be sent as it is gets in.
        if (r.CollapseKey is { } collapseKey && !IsHeaderValue(collapseKey, MaxCollapseKeyLength))
        {
            v.Add("collapseKey", $"1 to {MaxCollapseKeyLength} printable ASCII characters (0x20-0x7E), no leading or trailing space: it is sent as the APNs apns-collapse-id header.");
        }

        ApnsPushType? explicitPushType = null;
        if (r.Apns?.PushType is { } pushTypeText)
        {
            if (ApnsPushTypes.TryParse(pushTypeText, out var parsed))
            {
                explicitPushType = parsed;
            }
            else
            {
                v.Add("apns.pushType", "One of alert, background, voip, complication, fileprovider, mdm, location, liveactivity, pushtotalk, widgets, controls.");
            }
        }

        if (r.Apns?.Topic is { } topic && (!IsHeaderValue(topic, MaxTopicLength) || topic.Contains(' ', StringComparison.Ordinal)))
        {
            v.Add("apns.topic", $"A bundle id based topic: 1 to {MaxTopicLength} printable ASCII characters without spaces (it is sent as the apns-topic header).");
        }

        if (r.Fcm?.Message is { } fcmMessage)
        {
            foreach (var forbidden in new[] { "token", "topic", "condition", "fid", "name" })
            {
                if (fcmMessage.ContainsKey(forbidden))
                {
                    v.Add($"fcm.message.{forbidden}", "The gateway sets the target; remove it.");
                }
            }
        }

        if (!v.IsValid)
        {
            return null;
        }

        var (apnsPayload, pushType, apnsPriority) = BuildApns(r, explicitPushType);
        var fcm = BuildFcm(r);
        return new PreparedMessage(kind!, target!, r.TtlSeconds ?? MaxTtlSeconds, apnsPayload, pushType, apnsPriority, r.Apns?.Topic, r.CollapseKey, fcm);
    }

    /// <summary>
    /// The longest FCM token the message fits with; negative when it fits with none. A token counts one byte per
    /// character (registration admits printable ASCII only; real tokens are letters, digits, '-', '_' and ':', which JSON
    /// never escapes), so the message grows by one byte per token character and one measure with an empty token tells
    /// the room.
    /// </summary>
    public int FcmTokenRoom()
    {
        var withToken = (JsonObject)FcmMessage.DeepClone();
        withToken["token"] = "";
        return FcmLimits.MaxMessageBytes - FcmLimits.Measure(withToken);
    }

    /// <summary>
    /// The platform limits (APNs 4096, VoIP 5120; FCM 4096) for the platforms the targets use: null when the message
    /// fits, else why not. <paramref name="maxFcmTokenLength"/> is the longest FCM token targeted (0: no FCM target).
    /// </summary>
    public string? CheckSize(bool hasApns, int maxFcmTokenLength)
    {
        if (hasApns && ApnsPayload.Length > ApnsPayloadLimits.MaxBytes(ApnsPushType))
        {
            return $"The APNs payload would be {ApnsPayload.Length} bytes; the limit for {ApnsPushTypes.ToHeaderValue(ApnsPushType)} pushes is {ApnsPayloadLimits.MaxBytes(ApnsPushType)}.";
        }

        if (maxFcmTokenLength > 0 && FcmTokenRoom() is var room && maxFcmTokenLength > room)
        {
            var size = FcmLimits.MaxMessageBytes - room + maxFcmTokenLength;
            return $"The FCM message would be {size} bytes; the limit is {FcmLimits.MaxMessageBytes}.";
        }

        return null;
    }

    private static (string? Kind, JsonObject? Target) CheckTarget(MessageTarget t, Validation v)
    {
        var given = (t.EndpointId is null ? 0 : 1) + (t.EndpointIds is null ? 0 : 1) + (t.UserId is null ? 0 : 1) + (t.UserIds is null ? 0 : 1) + (t.Topic is null ? 0 : 1)
            + (t.ApplicationId is null ? 0 : 1);
        if (given != 1)
        {
            v.Add("target", "Exactly one of endpointId, endpointIds, userId, userIds, topic, applicationId.");
            return (null, null);
        }

        if (t.EndpointId is { } id)
        {
            return (TargetKinds.Endpoint, new JsonObject { ["endpointId"] = id });
        }

        if (t.EndpointIds is { } ids)
        {
            if (ids.Length is 0 or > MaxListTargets)
            {
                v.Add("target.endpointIds", $"From 1 to {MaxListTargets} endpoint ids.");
            }

            return (TargetKinds.Endpoints, new JsonObject { ["endpointIds"] = new JsonArray(ids.Distinct().Select(i => (JsonNode)i).ToArray()) });
        }

        if (t.ApplicationId is { } applicationId)
        {
            return (TargetKinds.Application, new JsonObject { ["applicationId"] = applicationId });
        }

        if (t.UserId is { } user)
        {
            v.Text("target.userId", user, 256);
            return (TargetKinds.User, new JsonObject { ["userId"] = user });
        }

        if (t.UserIds is { } users)
        {
            if (users.Length is 0 or > MaxListTargets)
            {
                v.Add("target.userIds", $"From 1 to {MaxListTargets} user ids.");
            }

            foreach (var u in users)
            {
                if (!v.Text("target.userIds", u, 256))
                {
                    break;
                }
            }

            return (TargetKinds.Users, new JsonObject { ["userIds"] = new JsonArray(users.Distinct().Select(u => (JsonNode)u).ToArray()) });
        }

        if (!TopicsEndpoints.IsValidName(t.Topic))
        {
            v.Add("target.topic", "1 to 256 characters of A-Z, a-z, 0-9, '_' and '-'.");
        }

        return (TargetKinds.Topic, new JsonObject { ["topic"] = t.Topic });
    }

    private static void CheckNotification(NotificationRequest? n, Validation v)
    {
        if (n is null)
        {
            return;
        }

        v.Text("notification.title", n.Title, MaxTextLength, required: false);
        v.Text("notification.body", n.Body, MaxTextLength, required: false);
        v.Text("notification.subtitle", n.Subtitle, MaxTextLength, required: false);
        v.Text("notification.sound", n.Sound, 256, required: false);
        v.Text("notification.category", n.Category, 256, required: false);
        v.Text("notification.threadId", n.ThreadId, 256, required: false);
        if (n.Badge is < 0)
        {
            v.Add("notification.badge", "Must be 0 or more (0 clears the badge).");
        }

        if (n.Image is not null && (!Uri.TryCreate(n.Image, UriKind.Absolute, out var image) || image.Scheme is not ("https" or "http") || n.Image.Length > 2048))
        {
            v.Add("notification.image", "An absolute http(s) URL.");
        }
    }

    private static void CheckData(Dictionary<string, string>? data, Validation v)
    {
        if (data is null)
        {
            return;
        }

        foreach (var (key, value) in data)
        {
            if (key.Length == 0 || key.Length > 256 || !Validation.IsStorable(key))
            {
                v.Add("data", $"Key '{Truncate(key)}': 1 to 256 printable characters.");
            }
            else if (key == "aps" || FcmReservedDataKeys.Contains(key) || key.StartsWith("google.", StringComparison.Ordinal) || key.StartsWith("gcm.", StringComparison.Ordinal))
            {
                v.Add("data", $"Key '{key}' is reserved (aps, from, message_type, notification, google.*, gcm.*).");
            }

            // JSON null gets past the deserializer as a dictionary value (nullable annotations stop at collections).
            if (value is null)
            {
                v.Add("data", $"Value of '{Truncate(key)}' must be a string (FCM data values are strings), not null.");
            }
            else if (!Validation.IsStorable(value))
            {
                v.Add("data", $"Value of '{Truncate(key)}' contains characters that cannot be stored.");
            }
        }
    }

    /// <summary>Non-empty, at most <paramref name="maxLength"/> characters, and sendable as it is (<see cref="ApnsHeaderValues.IsValid"/>).</summary>
    private static bool IsHeaderValue(string value, int maxLength) =>
        value.Length > 0 && value.Length <= maxLength && ApnsHeaderValues.IsValid(value);

    private static string Truncate(string s) => s.Length > 40 ? s[..40] + "…" : s;

    private static (byte[] Payload, ApnsPushType PushType, int Priority) BuildApns(MessageRequest r, ApnsPushType? explicitPushType)
    {
        var aps = new JsonObject();
        var root = new JsonObject { ["aps"] = aps };
        if (r.Notification is { } n)
        {
            var alert = new JsonObject();
            AddIf(alert, "title", n.Title);
            AddIf(alert, "subtitle", n.Subtitle);
            AddIf(alert, "body", n.Body);
            if (alert.Count > 0)
            {
                aps["alert"] = alert;
            }

            if (n.Badge is { } badge)
            {
                aps["badge"] = badge;
            }

            AddIf(aps, "sound", n.Sound);
            AddIf(aps, "category", n.Category);
            AddIf(aps, "thread-id", n.ThreadId);
            if (n.Image is not null)
            {
                // A notification service extension downloads the image; it needs mutable-content and the URL.
                aps["mutable-content"] = 1;
                root["image"] = n.Image;
            }
        }

        foreach (var (key, value) in r.Data ?? [])
        {
            root[key] = value;
        }

        if (r.Apns?.Payload is { } overrides)
        {
            Merge(root, overrides);
        }

        var mergedAps = root["aps"] as JsonObject ?? [];
        var visible = mergedAps.ContainsKey("alert") || mergedAps.ContainsKey("badge") || mergedAps.ContainsKey("sound");
        var pushType = explicitPushType ?? (visible ? ApnsPushType.Alert : ApnsPushType.Background);
        if (pushType == ApnsPushType.Background && !visible && !mergedAps.ContainsKey("content-available"))
        {
            // Nothing to show: a silent push that wakes the app, which is what a data-only message (or one sent as
            // pushType background) means. Without content-available iOS accepts it and never wakes the app.
            mergedAps["content-available"] = 1;
            if (!ReferenceEquals(root["aps"], mergedAps))
            {
                root["aps"] = mergedAps;
            }
        }

        // Apple: background pushes must use priority 5; 10 is an error.
        var priority = pushType == ApnsPushType.Background || r.Priority == "normal" ? 5 : 10;
        return (JsonSerializer.SerializeToUtf8Bytes(root, PayloadJson), pushType, priority);
    }

    private static JsonObject BuildFcm(MessageRequest r)
    {
        var message = new JsonObject();
        var n = r.Notification;
        if (n is not null && (n.Title ?? n.Body ?? n.Image) is not null)
        {
            var notification = new JsonObject();
            AddIf(notification, "title", n.Title);
            AddIf(notification, "body", n.Body);
            AddIf(notification, "image", n.Image);
            message["notification"] = notification;
        }

        if (r.Data is { Count: > 0 } data)
        {
            var d = new JsonObject();
            foreach (var (key, value) in data)
            {
                d[key] = value;
            }

            message["data"] = d;
        }

        var visible = n is not null && (n.Title ?? n.Body ?? n.Subtitle ?? n.Sound ?? (object?)n.Badge) is not null;
        var android = new JsonObject { ["priority"] = r.Priority ?? (visible ? "high" : "normal") };
        AddIf(android, "collapse_key", r.CollapseKey);
        var androidNotification = new JsonObject();
        AddIf(androidNotification, "sound", n?.Sound);
        AddIf(androidNotification, "click_action", n?.Category);
        if (androidNotification.Count > 0)
        {
            android["notification"] = androidNotification;
        }

        message["android"] = android;

        // iOS devices reached through FCM: the APNs block carries what FCM's notification object cannot.
        var aps = new JsonObject();
        if (n?.Subtitle is not null)
        {
            aps["alert"] = new JsonObject { ["subtitle"] = n.Subtitle };
        }

        if (n?.Badge is { } badge)
        {
            aps["badge"] = badge;
        }

        AddIf(aps, "sound", n?.Sound);
        AddIf(aps, "category", n?.Category);
        AddIf(aps, "thread-id", n?.ThreadId);
        var headers = new JsonObject();
        if (!visible)
        {
            aps["content-available"] = 1;
            headers["apns-push-type"] = "background";
            headers["apns-priority"] = "5";
        }
        else if (r.Priority == "normal")
        {
            headers["apns-priority"] = "5";
        }

        AddIf(headers, "apns-collapse-id", r.CollapseKey);
        if (aps.Count > 0 || headers.Count > 0)
        {
            var apns = new JsonObject();
            if (headers.Count > 0)
            {
                apns["headers"] = headers;
            }

            if (aps.Count > 0)
            {
                apns["payload"] = new JsonObject { ["aps"] = aps };
            }

            message["apns"] = apns;
        }

        if (r.Fcm?.Message is { } overrides)
        {
            Merge(message, overrides);
        }

        return message;
    }

    private static void AddIf(JsonObject o, string key, string? value)
    {
        if (value is not null)
        {
            o[key] = value;
        }
    }

    /// <summary>Deep merge: objects merge key by key, anything else replaces; an explicit null removes the key.</summary>
    internal static void Merge(JsonObject target, JsonObject source)
    {
        foreach (var (key, value) in source)
        {
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject sourceObject && target[key] is JsonObject targetObject)
            {
                Merge(targetObject, sourceObject);
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
    }
}
