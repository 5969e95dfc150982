using PushGateway.Data;

namespace PushGateway.Endpoints;

/// <summary>Device token formats (contract section 1).</summary>
internal static class Tokens
{
    /// <summary>
    /// APNs: hexadecimal, even length, 64 to 200 characters, stored lower-case (Apple: do not assume 32 bytes).
    /// FCM: 1 to 4096 printable ASCII characters, no whitespace.
    /// </summary>
    public static bool TryNormalize(string platform, string? token, out string normalized, out string error)
    {
        normalized = "";
        error = "";
        if (string.IsNullOrEmpty(token))
        {
            error = "Required.";
            return false;
        }

        if (platform == Platforms.Apns)
        {
            if (token.Length is < 64 or > 200 || token.Length % 2 != 0 || !token.All(char.IsAsciiHexDigit))
            {
                error = "An APNs device token is hexadecimal with an even number of characters, 64 to 200 long.";
                return false;
            }

            normalized = token.ToLowerInvariant();
            return true;
        }

        if (token.Length > 4096 || token.Any(c => c is < '!' or > '~'))
        {
            error = "An FCM registration token is 1 to 4096 printable ASCII characters without whitespace.";
            return false;
        }

        normalized = token;
        return true;
    }
}
