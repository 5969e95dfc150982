using System.Text.Json.Nodes;

namespace PushGateway.Fcm;

/// <summary>
/// FCM's message size limits: 4096 bytes, 2048 for topic messages ("Message too big", see
/// https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode).
/// </summary>
/// <remarks>
/// Google does not publish exactly what it counts ("keys and values"). This library counts conservatively: the
/// UTF-8 length of the compact JSON of the whole <c>message</c> object as it is sent (keys, values, quotes,
/// punctuation, the target and the platform blocks; non-ASCII text is not <c>\u</c>-escaped). A message that passes
/// this check is never too big by Google's measure; one close to the limit may be refused here although FCM would
/// have taken it.
/// </remarks>
public static class FcmLimits
{
    /// <summary>Limit for messages to a token (and anything but a topic or condition).</summary>
    public const int MaxMessageBytes = 4096;

    /// <summary>Limit for messages to a <c>topic</c> or a <c>condition</c> (a condition is a topic expression).</summary>
    public const int MaxTopicMessageBytes = 2048;

    /// <summary>Size of <paramref name="message"/> (the v1 <c>message</c> object) as counted by this library; see the remarks.</summary>
    public static int Measure(JsonObject message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return FcmJson.SerializeMessage(message).Length;
    }

    /// <summary>Size of <paramref name="message"/> as counted by this library.</summary>
    public static int Measure(FcmMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return FcmJson.SerializeMessage(message).Length;
    }

    /// <summary>The limit that applies to <paramref name="message"/>: 2048 if it has a <c>topic</c> or <c>condition</c>, else 4096.</summary>
    public static int MaxBytesFor(JsonObject message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.ContainsKey("topic") || message.ContainsKey("condition") ? MaxTopicMessageBytes : MaxMessageBytes;
    }

    /// <summary>The limit that applies to <paramref name="message"/>.</summary>
    public static int MaxBytesFor(FcmMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.Topic is not null || message.Condition is not null ? MaxTopicMessageBytes : MaxMessageBytes;
    }
}
