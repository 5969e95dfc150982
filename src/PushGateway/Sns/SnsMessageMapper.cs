using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PushGateway.Messages;

namespace PushGateway.Sns;

/// <summary>
/// Turns an SNS Publish (message, structure, reserved attributes) into the REST API's message request, so that the
/// same validation (<see cref="PreparedMessage.Prepare"/>), size checks, queue and workers deliver it. APNs gets its
/// JSON as <c>apns.payload</c>, FCM its v1 message as <c>fcm.message</c>; nothing else is derived.
/// </summary>
internal static class SnsMessageMapper
{
    public const string PushType = "AWS.SNS.MOBILE.APNS.PUSH_TYPE";
    public const string Priority = "AWS.SNS.MOBILE.APNS.PRIORITY";
    public const string CollapseId = "AWS.SNS.MOBILE.APNS.COLLAPSE_ID";
    public const string Topic = "AWS.SNS.MOBILE.APNS.TOPIC";
    public const string ApnsTtl = "AWS.SNS.MOBILE.APNS.TTL";
    public const string ApnsSandboxTtl = "AWS.SNS.MOBILE.APNS_SANDBOX.TTL";
    public const string FcmTtl = "AWS.SNS.MOBILE.FCM.TTL";
    public const string GcmTtl = "AWS.SNS.MOBILE.GCM.TTL";

    private static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false, MaxDepth = 64 };

    /// <param name="platformKey">
    /// For a publish to one endpoint: its platform's key (<c>APNS</c>, <c>APNS_SANDBOX</c> or <c>GCM</c>). For a topic:
    /// null, and both payloads are built (APNs from <c>APNS</c>, else <c>APNS_SANDBOX</c>, else <c>default</c>).
    /// </param>
    public static MessageRequest Build(MessageTarget target, string? platformKey, string message, bool json, IReadOnlyList<MessageAttribute> attributes)
    {
        var reserved = CheckAttributes(attributes);
        string? apnsText, gcmText;
        bool apnsPlain, gcmPlain;
        if (json)
        {
            var entries = ParseStructure(message);
            entries.TryGetValue("default", out var fallback);
            if (platformKey is null)
            {
                if (fallback is null)
                {
                    throw NoDefault();
                }

                (apnsText, apnsPlain) = Pick(entries, fallback, SnsArn.Apns, SnsArn.ApnsSandbox);
                (gcmText, gcmPlain) = Pick(entries, fallback, SnsArn.Gcm);
            }
            else
            {
                var (text, plain) = entries.TryGetValue(platformKey, out var specific) ? (specific, false)
                    : fallback is not null ? (fallback, true)
                    : throw NoDefault();
                (apnsText, apnsPlain, gcmText, gcmPlain) = platformKey == SnsArn.Gcm
                    ? ((string?)null, false, (string?)text, plain)
                    : (text, plain, null, false);
            }
        }
        else
        {
            (apnsText, apnsPlain, gcmText, gcmPlain) = (message, true, message, true);
        }

        var apnsPayload = apnsText is null ? null : apnsPlain ? new JsonObject { ["aps"] = new JsonObject { ["alert"] = apnsText } } : ParseObject(apnsText, "APNS");
        int? bodyTtl = null;
        var fcmMessage = gcmText is null ? null : gcmPlain ? PlainFcm(gcmText) : FcmFromGcm(ParseObject(gcmText, "GCM"), out bodyTtl);

        return new MessageRequest
        {
            Target = target,
            TtlSeconds = Ttl(reserved, platformKey) ?? (platformKey is null or SnsArn.Gcm ? bodyTtl : null),
            Priority = reserved.TryGetValue(Priority, out var priority) ? priority switch
            {
                "10" => "high",
                "5" => "normal",
                _ => throw SnsException.InvalidParameter("MessageAttributes", $"{Priority} must be 10 or 5"),
            } : null,
            CollapseKey = reserved.GetValueOrDefault(CollapseId),
            Apns = new ApnsOverrides { PushType = reserved.GetValueOrDefault(PushType), Topic = reserved.GetValueOrDefault(Topic), Payload = apnsPayload },
            Fcm = fcmMessage is null ? null : new FcmOverrides { Message = fcmMessage },
        };
    }

    /// <summary>The SNS name of a field the REST validation refused, for the InvalidParameter message.</summary>
    public static string ToSnsName(string field) => field switch
    {
        "apns.pushType" => PushType,
        "apns.topic" => Topic,
        "collapseKey" => CollapseId,
        "ttlSeconds" => "AWS.SNS.MOBILE.*.TTL",
        "priority" => Priority,
        _ when field.StartsWith("fcm.message", StringComparison.Ordinal) => "Message (GCM" + field["fcm.message".Length..] + ")",
        _ when field.StartsWith("apns.payload", StringComparison.Ordinal) => "Message (APNS)",
        _ => field,
    };

    private static (string? Text, bool Plain) Pick(Dictionary<string, string> entries, string fallback, params string[] keys)
    {
        foreach (var key in keys)
        {
            if (entries.TryGetValue(key, out var value))
            {
                return (value, false);
            }
        }

        return (fallback, true);
    }

    private static SnsException NoDefault() => SnsException.InvalidParameter("Invalid parameter: Message Structure - No default entry in JSON message body");

    /// <summary>The top-level string members of a JSON structure message (other values are ignored, as on SNS; a repeated key: the last wins).</summary>
    private static Dictionary<string, string> ParseStructure(string message)
    {
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(message, new JsonDocumentOptions { MaxDepth = 64 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Unparsable();
            }

            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.String)
                {
                    entries[property.Name] = property.Value.GetString()!;
                }
            }
        }
        catch (JsonException)
        {
            throw Unparsable();
        }

        return entries;
    }

    private static SnsException Unparsable() => SnsException.InvalidParameter("Invalid parameter: Message Structure - JSON message body failed to parse");

    private static JsonObject ParseObject(string text, string protocol)
    {
        try
        {
            if (JsonNode.Parse(text, documentOptions: StrictJson) is JsonObject value)
            {
                return value;
            }
        }
        catch (JsonException)
        {
        }

        throw SnsException.InvalidParameter("Message", $"Invalid notification for protocol {protocol}: the value must be a JSON object (the platform payload), with no repeated keys");
    }

    /// <summary>Plain text for FCM: a notification with that body (our choice; SNS's own wrapper is not documented).</summary>
    private static JsonObject PlainFcm(string text) => new()
    {
        ["notification"] = new JsonObject { ["body"] = text },
        ["android"] = new JsonObject { ["priority"] = "high" },
        ["apns"] = null,
    };

    /// <summary>
    /// The <c>GCM</c> value: <c>{"fcmV1Message":{"message":{…}}}</c> is taken as the FCM v1 message; the legacy shape
    /// (<c>notification</c>, <c>data</c>, <c>time_to_live</c>, <c>collapse_key</c>, <c>priority</c>) is converted to v1.
    /// </summary>
    private static JsonObject FcmFromGcm(JsonObject gcm, out int? ttl)
    {
        ttl = null;
        if (gcm["fcmV1Message"] is JsonObject v1)
        {
            return v1["message"] as JsonObject is { } message
                ? (JsonObject)message.DeepClone()
                : throw SnsException.InvalidParameter("Message", "Invalid notification for protocol GCM: fcmV1Message needs a message object");
        }

        var result = new JsonObject();
        var android = new JsonObject();
        if (gcm["notification"] is JsonObject notification)
        {
            var common = new JsonObject();
            var androidNotification = new JsonObject();
            foreach (var (key, value) in notification)
            {
                (key is "title" or "body" or "image" ? common : androidNotification)[key] = value?.DeepClone();
            }

            if (common.Count > 0)
            {
                result["notification"] = common;
            }

            if (androidNotification.Count > 0)
            {
                android["notification"] = androidNotification;
            }

            // A visible message: high priority on Android, and no silent-push block for iOS devices reached through FCM.
            android["priority"] = "high";
            result["apns"] = null;
        }

        if (gcm["data"] is JsonObject data)
        {
            var strings = new JsonObject();
            foreach (var (key, value) in data)
            {
                strings[key] = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value?.ToJsonString() ?? "";
            }

            result["data"] = strings;
        }

        if (gcm["priority"] is JsonValue priorityValue && priorityValue.TryGetValue<string>(out var priority))
        {
            android["priority"] = priority == "high" ? "high" : "normal";
        }

        if (gcm["collapse_key"] is JsonValue collapseValue && collapseValue.TryGetValue<string>(out var collapse))
        {
            android["collapse_key"] = collapse;
        }

        if (gcm["restricted_package_name"] is JsonValue packageValue && packageValue.TryGetValue<string>(out var package))
        {
            android["restricted_package_name"] = package;
        }

        if (gcm["time_to_live"] is JsonValue ttlValue && ttlValue.TryGetValue<int>(out var seconds))
        {
            ttl = seconds;
        }

        if (android.Count > 0)
        {
            result["android"] = android;
        }

        return result;
    }

    private static int? Ttl(Dictionary<string, string> reserved, string? platformKey)
    {
        var keys = platformKey switch
        {
            SnsArn.Apns => [ApnsTtl],
            SnsArn.ApnsSandbox => [ApnsSandboxTtl, ApnsTtl],
            SnsArn.Gcm => [FcmTtl, GcmTtl],
            // A topic reaches both platforms with one expiry: the shortest TTL given wins.
            _ => new[] { ApnsTtl, ApnsSandboxTtl, FcmTtl, GcmTtl },
        };
        int? ttl = null;
        foreach (var key in keys)
        {
            if (!reserved.TryGetValue(key, out var text))
            {
                continue;
            }

            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            {
                throw SnsException.InvalidParameter("MessageAttributes", $"{key} must be a whole number of seconds");
            }

            if (platformKey is not null)
            {
                return seconds;
            }

            ttl = ttl is { } t ? Math.Min(t, seconds) : seconds;
        }

        return ttl;
    }

    /// <summary>SNS's attribute checks; returns the reserved mobile attributes (user attributes are not delivered to mobile endpoints).</summary>
    private static Dictionary<string, string> CheckAttributes(IReadOnlyList<MessageAttribute> attributes)
    {
        var reserved = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var a in attributes)
        {
            if (a.DataType is null)
            {
                throw SnsException.MissingMember($"messageAttributes.{a.Name}.member.dataType");
            }

            var kind = a.DataType.Split('.')[0];
            if (kind is not ("String" or "Number" or "Binary"))
            {
                throw Invalid($"The message attribute '{a.Name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.");
            }

            var value = kind == "Binary" ? a.BinaryValue : a.StringValue;
            if (value is null && (kind == "Binary" ? a.StringValue : a.BinaryValue) is not null)
            {
                throw Invalid($"The message attribute '{a.Name}' with type '{kind}' must use field '{(kind == "Binary" ? "Binary" : "String")}'.");
            }

            if (string.IsNullOrEmpty(value))
            {
                throw Invalid($"The message attribute '{a.Name}' must contain non-empty message attribute value for message attribute type '{kind}'.");
            }

            if (a.Name.StartsWith("AWS.SNS.MOBILE.", StringComparison.Ordinal) && kind != "Binary")
            {
                reserved[a.Name] = value;
            }
        }

        return reserved;
    }

    private static SnsException Invalid(string message) => new(400, "ParameterValueInvalid", message);
}
