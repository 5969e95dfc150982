namespace PushGateway.Apns;

/// <summary>
/// One notification for one device: <c>POST /3/device/&lt;token&gt;</c> with the APNs headers.
/// <see href="https://developer.apple.com/documentation/usernotifications/sending-notification-requests-to-apns"/>
/// </summary>
public sealed class ApnsRequest
{
    /// <summary>The device token in hex, as the app got it from APNs. Apple: make no assumption about its length.</summary>
    public required string DeviceToken { get; init; }

    /// <summary>
    /// <c>apns-topic</c>: the bundle id plus the suffix of the push type (<see cref="ApnsPushTypes.TopicSuffix"/>).
    /// An empty string sends no header (certificate connections then use the certificate's bundle id).
    /// </summary>
    public required string Topic { get; init; }

    /// <summary><c>apns-push-type</c>; must match the payload.</summary>
    public ApnsPushType PushType { get; init; } = ApnsPushType.Alert;

    /// <summary><c>apns-priority</c>: 10 (now), 5 (power considerations), 1 (never wake). Null omits the header (APNs uses 10).</summary>
    public int? Priority { get; init; }

    /// <summary>
    /// <c>apns-expiration</c> as epoch seconds: APNs stores and retries until then. <see cref="DateTimeOffset.UnixEpoch"/>
    /// sends <c>0</c> (one attempt, no storage). Null omits the header (Apple's default storage policy).
    /// </summary>
    public DateTimeOffset? Expiration { get; init; }

    /// <summary><c>apns-collapse-id</c>: at most 64 bytes of UTF-8; notifications with the same id are merged on the device.</summary>
    public string? CollapseId { get; init; }

    /// <summary><c>apns-id</c>, sent in the lower-case canonical form; null lets APNs generate one (returned in the answer).</summary>
    public Guid? ApnsId { get; init; }

    /// <summary>The UTF-8 JSON payload; see <see cref="ApnsPayloadBuilder"/> and <see cref="ApnsPayloadLimits"/>.</summary>
    public required ReadOnlyMemory<byte> Payload { get; init; }
}
