namespace PushGateway.Fcm;

/// <summary>
/// The fixed texts that describe a failure to get an access token. Nothing the token endpoint says is passed on but
/// one of these: a receipt's reason, an application's disabled reason and the logs carry the code, never the
/// endpoint's description or body. The token URL is the operator's (<see cref="FcmClientOptions.TokenUrl"/>), but a
/// misbehaving or compromised endpoint, or a proxy in front of it, must still not be able to put text in front of
/// tenants.
/// </summary>
public static class FcmTokenErrors
{
    /// <summary>No connection to the token endpoint (refused, reset, DNS, TLS).</summary>
    public const string Unreachable = "oauth:unreachable";

    /// <summary>No answer from the token endpoint within <see cref="FcmClientOptions.RequestTimeout"/>.</summary>
    public const string Timeout = "oauth:timeout";

    /// <summary>A 2xx answer that is not a token response.</summary>
    public const string BadResponse = "oauth:bad_response";

    /// <summary>
    /// The OAuth <c>error</c> codes passed on by name (RFC 6749 §4.1.2.1 and §5.2); any other value becomes
    /// <c>oauth:http_&lt;status&gt;</c>. Google answers a wrong key, an unknown or deleted account and a bad clock with
    /// <c>invalid_grant</c>.
    /// </summary>
    public static readonly IReadOnlySet<string> KnownCodes = new HashSet<string>(StringComparer.Ordinal)
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "access_denied",
        "server_error",
        "temporarily_unavailable",
    };

    /// <summary><c>oauth:&lt;error&gt;</c> for a known OAuth error code, else <c>oauth:http_&lt;status&gt;</c>.</summary>
    public static string For(int status, string? error) =>
        error is not null && KnownCodes.Contains(error) ? "oauth:" + error : $"oauth:http_{status}";
}
