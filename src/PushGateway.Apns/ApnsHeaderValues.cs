namespace PushGateway.Apns;

/// <summary>
/// Which strings may go into an APNs request header. A CR or LF in a header value is not a bad request that APNs
/// answers: the HTTP/2 peer treats the frame as malformed and closes the whole connection, so every request in flight
/// on it fails with it; a non-ASCII value other than the collapse id makes the HTTP stack throw, which looks like a
/// transport failure and would be retried forever. So the client refuses such values itself, before anything is sent
/// (<see cref="ApnsClient.SendAsync"/> answers <see cref="InvalidHeaderValueReason"/>), and callers that take these
/// values from users can check them on the way in with the same rules.
/// </summary>
public static class ApnsHeaderValues
{
    /// <summary>
    /// The <see cref="ApnsResponse.ReasonText"/> of a request the client refused to build because a header value is
    /// invalid: status 400, <see cref="ApnsResponse.IsLocalRejection"/> true, <see cref="ApnsReason.Unknown"/>,
    /// <see cref="ApnsResponseClass.RequestRejected"/> (a permanent failure of that one notification). APNs itself
    /// never sends this reason.
    /// </summary>
    public const string InvalidHeaderValueReason = "InvalidHeaderValue";

    /// <summary>
    /// A header value for <c>apns-topic</c> (and any other header whose value is ASCII): printable ASCII only
    /// (0x20 to 0x7E), no leading or trailing space (HTTP would strip it, so APNs would see another value).
    /// The empty string is valid (the client then sends no <c>apns-topic</c>).
    /// </summary>
    /// <param name="value">The value to check.</param>
    /// <returns>True when the value can be sent as it is.</returns>
    public static bool IsValid(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        foreach (var c in value)
        {
            if (c is < (char)0x20 or > (char)0x7E)
            {
                return false;
            }
        }

        return !HasOuterSpace(value);
    }

    /// <summary>
    /// A value for <c>apns-collapse-id</c>. The client sends this header in UTF-8 (Apple counts its 64-byte limit in
    /// UTF-8 bytes), so any text passes except control characters (C0, DEL, C1: CR and LF among them), unpaired
    /// surrogates (no UTF-8 encoding) and leading or trailing whitespace. The 64-byte limit is left to APNs
    /// (<c>BadCollapseId</c>); callers that validate user input should also apply it.
    /// </summary>
    /// <param name="value">The value to check.</param>
    /// <returns>True when the value can be sent as it is.</returns>
    public static bool IsValidCollapseId(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsControl(c))
            {
                return false;
            }

            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return false;
            }
        }

        return value.Length == 0 || !(char.IsWhiteSpace(value[0]) || char.IsWhiteSpace(value[^1]));
    }

    private static bool HasOuterSpace(string value) => value.Length > 0 && (value[0] == ' ' || value[^1] == ' ');
}
