using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace PushGateway.Fcm;

/// <summary>
/// The v1 <c>Message</c> resource (https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages), written
/// in snake_case by a source-generated serializer; null members are left out. Set exactly one target:
/// <see cref="Token"/>, <see cref="Topic"/> or <see cref="Condition"/> (FCM answers 400 otherwise).
/// </summary>
public sealed class FcmMessage
{
    private readonly string? _topic;

    /// <summary>Registration token of one app instance.</summary>
    public string? Token { get; init; }

    /// <summary>
    /// Topic name. FCM wants the bare name; a leading <c>/topics/</c> (as the Admin SDKs accept) is stripped here.
    /// Topic messages have a 2048-byte size limit instead of 4096.
    /// </summary>
    public string? Topic
    {
        get => _topic;
        init => _topic = value is not null && value.StartsWith("/topics/", StringComparison.Ordinal) ? value["/topics/".Length..] : value;
    }

    /// <summary>Topic condition such as <c>'a' in topics &amp;&amp; 'b' in topics</c>; sized like a topic message.</summary>
    public string? Condition { get; init; }

    /// <summary>The basic notification shown on every platform.</summary>
    public FcmNotification? Notification { get; init; }

    /// <summary>
    /// Custom key/value pairs; FCM accepts only string values, and no reserved key (<c>from</c>, <c>message_type</c>,
    /// or keys starting with <c>google.</c> or <c>gcm.</c>).
    /// </summary>
    public IDictionary<string, string>? Data { get; init; }

    /// <summary>Android-specific options.</summary>
    public FcmAndroidConfig? Android { get; init; }

    /// <summary>APNs-specific options (headers and the raw APNs payload).</summary>
    public FcmApnsConfig? Apns { get; init; }

    /// <summary>Web push options.</summary>
    public FcmWebpushConfig? Webpush { get; init; }

    /// <summary>Options for all platforms (<c>fcm_options</c>).</summary>
    public FcmMessageOptions? FcmOptions { get; init; }

    /// <summary>
    /// The message as a JSON object, exactly what <see cref="FcmClient.SendAsync(FcmMessage, bool, CancellationToken)"/>
    /// would send as <c>message</c>; merge raw overrides into it and send it with the <see cref="JsonObject"/> overload.
    /// </summary>
    public JsonObject ToJsonObject() => JsonNode.Parse(FcmJson.SerializeMessage(this))!.AsObject();
}

/// <summary>The basic notification (<c>notification</c>) shown on every platform.</summary>
public sealed class FcmNotification
{
    /// <summary>Notification title.</summary>
    public string? Title { get; init; }

    /// <summary>Notification body text.</summary>
    public string? Body { get; init; }

    /// <summary>HTTPS URL of an image shown in the notification.</summary>
    public string? Image { get; init; }
}

/// <summary>Top-level <c>fcm_options</c>.</summary>
public sealed class FcmMessageOptions
{
    /// <summary>Label for Firebase analytics (<c>^[a-zA-Z0-9-_.~%]{1,50}$</c>).</summary>
    public string? AnalyticsLabel { get; init; }
}

/// <summary>Web push options (<c>webpush</c>), see https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages#WebpushConfig.</summary>
public sealed class FcmWebpushConfig
{
    /// <summary>HTTP headers defined by the Web Push protocol, such as <c>TTL</c> or <c>Urgency</c>.</summary>
    public IDictionary<string, string>? Headers { get; init; }

    /// <summary>Web-only data; overrides <see cref="FcmMessage.Data"/>.</summary>
    public IDictionary<string, string>? Data { get; init; }

    /// <summary>A Web Notification options object (title, body, icon, actions…), passed through as is.</summary>
    public JsonObject? Notification { get; init; }

    /// <summary>Web <c>fcm_options</c>.</summary>
    public FcmWebpushFcmOptions? FcmOptions { get; init; }
}

/// <summary>Web push <c>fcm_options</c>.</summary>
public sealed class FcmWebpushFcmOptions
{
    /// <summary>HTTPS link opened when the user clicks the notification.</summary>
    public string? Link { get; init; }

    /// <summary>Label for Firebase analytics.</summary>
    public string? AnalyticsLabel { get; init; }
}

/// <summary>
/// APNs options (<c>apns</c>): the APNs request headers and the raw APNs payload that FCM forwards to Apple, see
/// https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages#ApnsConfig.
/// </summary>
public sealed class FcmApnsConfig
{
    /// <summary>APNs request headers such as <c>apns-priority</c>, <c>apns-push-type</c>, <c>apns-expiration</c>, <c>apns-collapse-id</c>; values are strings.</summary>
    public IDictionary<string, string>? Headers { get; init; }

    /// <summary>The APNs payload (<c>{"aps": {…}, custom keys…}</c>), passed through as is.</summary>
    public JsonObject? Payload { get; init; }

    /// <summary>APNs <c>fcm_options</c>.</summary>
    public FcmApnsFcmOptions? FcmOptions { get; init; }

    /// <summary>APNs token of a Live Activity to update, if the message targets one.</summary>
    public string? LiveActivityToken { get; init; }
}

/// <summary>APNs <c>fcm_options</c>.</summary>
public sealed class FcmApnsFcmOptions
{
    /// <summary>Label for Firebase analytics.</summary>
    public string? AnalyticsLabel { get; init; }

    /// <summary>Image URL shown in the notification (the app needs a notification service extension).</summary>
    public string? Image { get; init; }
}

/// <summary>Android options (<c>android</c>), see https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages#AndroidConfig.</summary>
public sealed class FcmAndroidConfig
{
    /// <summary>Collapse key; at most 4 different keys are kept per device at a time.</summary>
    public string? CollapseKey { get; init; }

    /// <summary>Delivery priority; null leaves it to FCM (normal for data messages, high for notification messages).</summary>
    public FcmAndroidPriority? Priority { get; init; }

    /// <summary>
    /// How long FCM keeps the message while the device is offline, 0 to 28 days; written as a protobuf duration string
    /// such as <c>"3600s"</c> or <c>"3.5s"</c>.
    /// </summary>
    [JsonConverter(typeof(FcmDurationConverter))]
    public TimeSpan? Ttl { get; init; }

    /// <summary>Package name the registration token must match.</summary>
    public string? RestrictedPackageName { get; init; }

    /// <summary>Android-only data; overrides <see cref="FcmMessage.Data"/>.</summary>
    public IDictionary<string, string>? Data { get; init; }

    /// <summary>Android notification options.</summary>
    public FcmAndroidNotification? Notification { get; init; }

    /// <summary>Android <c>fcm_options</c>.</summary>
    public FcmAndroidFcmOptions? FcmOptions { get; init; }

    /// <summary>Allow delivery while the device is in direct boot mode.</summary>
    public bool? DirectBootOk { get; init; }

    /// <summary>Allow delivery in bandwidth-constrained mode.</summary>
    public bool? BandwidthConstrainedOk { get; init; }

    /// <summary>Allow delivery over a restricted satellite network.</summary>
    public bool? RestrictedSatelliteOk { get; init; }
}

/// <summary>Android <c>fcm_options</c>.</summary>
public sealed class FcmAndroidFcmOptions
{
    /// <summary>Label for Firebase analytics.</summary>
    public string? AnalyticsLabel { get; init; }
}

/// <summary><c>android.priority</c>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FcmAndroidPriority>))]
public enum FcmAndroidPriority
{
    /// <summary><c>normal</c>: may be delayed while the device dozes.</summary>
    [JsonStringEnumMemberName("normal")] Normal,

    /// <summary><c>high</c>: delivered at once, may wake the device.</summary>
    [JsonStringEnumMemberName("high")] High,
}

/// <summary>Android notification options (<c>android.notification</c>).</summary>
public sealed class FcmAndroidNotification
{
    /// <summary>Title; overrides <see cref="FcmNotification.Title"/>.</summary>
    public string? Title { get; init; }

    /// <summary>Body; overrides <see cref="FcmNotification.Body"/>.</summary>
    public string? Body { get; init; }

    /// <summary>Drawable resource name of the icon.</summary>
    public string? Icon { get; init; }

    /// <summary>Icon colour as <c>#rrggbb</c>.</summary>
    public string? Color { get; init; }

    /// <summary>Sound resource name, or <c>default</c>.</summary>
    public string? Sound { get; init; }

    /// <summary>Notifications with the same tag replace each other in the drawer.</summary>
    public string? Tag { get; init; }

    /// <summary>Intent filter action launched when the user taps the notification.</summary>
    public string? ClickAction { get; init; }

    /// <summary>String resource key of a localised body.</summary>
    public string? BodyLocKey { get; init; }

    /// <summary>Format arguments of <see cref="BodyLocKey"/>.</summary>
    public IList<string>? BodyLocArgs { get; init; }

    /// <summary>String resource key of a localised title.</summary>
    public string? TitleLocKey { get; init; }

    /// <summary>Format arguments of <see cref="TitleLocKey"/>.</summary>
    public IList<string>? TitleLocArgs { get; init; }

    /// <summary>Notification channel id (Android O+).</summary>
    public string? ChannelId { get; init; }

    /// <summary>Accessibility ticker text.</summary>
    public string? Ticker { get; init; }

    /// <summary>Keep the notification when the user taps it.</summary>
    public bool? Sticky { get; init; }

    /// <summary>Time of the event the notification is about; written as an RFC 3339 UTC timestamp.</summary>
    [JsonConverter(typeof(FcmTimestampConverter))]
    public DateTimeOffset? EventTime { get; init; }

    /// <summary>Show on this device only (not bridged to wearables).</summary>
    public bool? LocalOnly { get; init; }

    /// <summary>Relative priority of the notification in the drawer.</summary>
    public FcmAndroidNotificationPriority? NotificationPriority { get; init; }

    /// <summary>Use the framework's default sound.</summary>
    public bool? DefaultSound { get; init; }

    /// <summary>Use the framework's default vibration pattern.</summary>
    public bool? DefaultVibrateTimings { get; init; }

    /// <summary>Use the framework's default LED settings.</summary>
    public bool? DefaultLightSettings { get; init; }

    /// <summary>Vibration pattern: alternating off/on durations.</summary>
    [JsonConverter(typeof(FcmDurationListConverter))]
    public IList<TimeSpan>? VibrateTimings { get; init; }

    /// <summary>Lock screen visibility.</summary>
    public FcmAndroidVisibility? Visibility { get; init; }

    /// <summary>Number shown on the launcher badge.</summary>
    public int? NotificationCount { get; init; }

    /// <summary>LED settings.</summary>
    public FcmAndroidLightSettings? LightSettings { get; init; }

    /// <summary>HTTPS URL of an image; overrides <see cref="FcmNotification.Image"/>.</summary>
    public string? Image { get; init; }

    /// <summary>Whether the notification may be proxied (Google Play services shows it).</summary>
    public FcmAndroidProxy? Proxy { get; init; }
}

/// <summary>LED settings of an Android notification.</summary>
public sealed class FcmAndroidLightSettings
{
    /// <summary>LED colour.</summary>
    public required FcmColor Color { get; init; }

    /// <summary>How long the LED is on.</summary>
    [JsonConverter(typeof(FcmDurationConverter))]
    public required TimeSpan LightOnDuration { get; init; }

    /// <summary>How long the LED is off.</summary>
    [JsonConverter(typeof(FcmDurationConverter))]
    public required TimeSpan LightOffDuration { get; init; }
}

/// <summary>An RGBA colour, each component in [0, 1].</summary>
public sealed class FcmColor
{
    /// <summary>Red, 0 to 1.</summary>
    public float Red { get; init; }

    /// <summary>Green, 0 to 1.</summary>
    public float Green { get; init; }

    /// <summary>Blue, 0 to 1.</summary>
    public float Blue { get; init; }

    /// <summary>Alpha, 0 to 1; null means opaque.</summary>
    public float? Alpha { get; init; }
}

/// <summary><c>android.notification.notification_priority</c>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FcmAndroidNotificationPriority>))]
public enum FcmAndroidNotificationPriority
{
    /// <summary><c>PRIORITY_MIN</c>.</summary>
    [JsonStringEnumMemberName("PRIORITY_MIN")] Min,

    /// <summary><c>PRIORITY_LOW</c>.</summary>
    [JsonStringEnumMemberName("PRIORITY_LOW")] Low,

    /// <summary><c>PRIORITY_DEFAULT</c>.</summary>
    [JsonStringEnumMemberName("PRIORITY_DEFAULT")] Default,

    /// <summary><c>PRIORITY_HIGH</c>.</summary>
    [JsonStringEnumMemberName("PRIORITY_HIGH")] High,

    /// <summary><c>PRIORITY_MAX</c>.</summary>
    [JsonStringEnumMemberName("PRIORITY_MAX")] Max,
}

/// <summary><c>android.notification.visibility</c>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FcmAndroidVisibility>))]
public enum FcmAndroidVisibility
{
    /// <summary><c>PRIVATE</c>: shown on the lock screen with its content hidden.</summary>
    [JsonStringEnumMemberName("PRIVATE")] Private,

    /// <summary><c>PUBLIC</c>: shown in full on the lock screen.</summary>
    [JsonStringEnumMemberName("PUBLIC")] Public,

    /// <summary><c>SECRET</c>: not shown on the lock screen.</summary>
    [JsonStringEnumMemberName("SECRET")] Secret,
}

/// <summary><c>android.notification.proxy</c>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FcmAndroidProxy>))]
public enum FcmAndroidProxy
{
    /// <summary><c>ALLOW</c>.</summary>
    [JsonStringEnumMemberName("ALLOW")] Allow,

    /// <summary><c>DENY</c>.</summary>
    [JsonStringEnumMemberName("DENY")] Deny,

    /// <summary><c>IF_PRIORITY_LOWERED</c>: proxy only if the message's priority was lowered.</summary>
    [JsonStringEnumMemberName("IF_PRIORITY_LOWERED")] IfPriorityLowered,
}
