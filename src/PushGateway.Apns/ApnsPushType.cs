namespace PushGateway.Apns;

/// <summary>
/// The <c>apns-push-type</c> header. Apple asks for it on every request and requires it on watchOS 6 and later; it must
/// match the payload and the topic suffix (see <see cref="ApnsPushTypes.TopicSuffix"/>).
/// <see href="https://developer.apple.com/documentation/usernotifications/sending-notification-requests-to-apns"/>
/// </summary>
public enum ApnsPushType
{
    /// <summary><c>alert</c>: an alert, badge or sound; topic is the bundle id.</summary>
    Alert,

    /// <summary><c>background</c>: silent push (<c>content-available: 1</c>); Apple requires priority 5.</summary>
    Background,

    /// <summary><c>voip</c>: PushKit VoIP; topic <c>&lt;bundleId&gt;.voip</c>; payload limit 5120 bytes.</summary>
    Voip,

    /// <summary><c>complication</c>: watchOS complication; topic <c>&lt;bundleId&gt;.complication</c>.</summary>
    Complication,

    /// <summary><c>fileprovider</c>: File Provider extension; topic <c>&lt;bundleId&gt;.pushkit.fileprovider</c>.</summary>
    FileProvider,

    /// <summary><c>mdm</c>: device management; the topic is the UID from the MDM push certificate.</summary>
    Mdm,

    /// <summary><c>location</c>: location query (token auth only); topic <c>&lt;bundleId&gt;.location-query</c>.</summary>
    Location,

    /// <summary><c>liveactivity</c>: Live Activity update; topic <c>&lt;bundleId&gt;.push-type.liveactivity</c>.</summary>
    LiveActivity,

    /// <summary><c>pushtotalk</c>: Push to Talk; topic <c>&lt;bundleId&gt;.voip-ptt</c>.</summary>
    PushToTalk,

    /// <summary><c>widgets</c>: WidgetKit reload; topic <c>&lt;bundleId&gt;.push-type.widgets</c>.</summary>
    Widgets,

    /// <summary><c>controls</c>: Controls reload; topic <c>&lt;bundleId&gt;.push-type.controls</c>.</summary>
    Controls,
}

/// <summary>Conversions between <see cref="ApnsPushType"/> and the wire values Apple documents.</summary>
public static class ApnsPushTypes
{
    // Indexed by the enum value; the strings are interned once so the hot path adds no allocation.
    private static readonly string[] HeaderValues =
    [
        "alert", "background", "voip", "complication", "fileprovider", "mdm", "location", "liveactivity",
        "pushtotalk", "widgets", "controls",
    ];

    private static readonly string[] TopicSuffixes =
    [
        "", "", ".voip", ".complication", ".pushkit.fileprovider", "", ".location-query", ".push-type.liveactivity",
        ".voip-ptt", ".push-type.widgets", ".push-type.controls",
    ];

    /// <summary>The <c>apns-push-type</c> header value, e.g. <c>liveactivity</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined push type.</exception>
    public static string ToHeaderValue(ApnsPushType pushType) =>
        (uint)pushType < (uint)HeaderValues.Length
            ? HeaderValues[(int)pushType]
            : throw new ArgumentOutOfRangeException(nameof(pushType), pushType, "Unknown APNs push type.");

    /// <summary>Parses an <c>apns-push-type</c> header value (exact, lower-case as Apple spells it).</summary>
    public static bool TryParse(string? value, out ApnsPushType pushType)
    {
        for (var i = 0; i < HeaderValues.Length; i++)
        {
            if (string.Equals(HeaderValues[i], value, StringComparison.Ordinal))
            {
                pushType = (ApnsPushType)i;
                return true;
            }
        }

        pushType = default;
        return false;
    }

    /// <summary>
    /// What Apple appends to the bundle id to form <c>apns-topic</c> for this push type (empty for alert, background
    /// and mdm; for mdm the topic is the certificate's UID instead).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined push type.</exception>
    public static string TopicSuffix(ApnsPushType pushType) =>
        (uint)pushType < (uint)TopicSuffixes.Length
            ? TopicSuffixes[(int)pushType]
            : throw new ArgumentOutOfRangeException(nameof(pushType), pushType, "Unknown APNs push type.");
}
