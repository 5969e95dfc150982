namespace PushGateway.Apns;

/// <summary>
/// The <c>reason</c> string of an APNs error answer, over Apple's whole table.
/// <see href="https://developer.apple.com/documentation/usernotifications/handling-notification-responses-from-apns"/>
/// <see cref="ApnsResponse.ReasonText"/> keeps the string exactly as received.
/// </summary>
public enum ApnsReason
{
    /// <summary>No reason: the request was accepted (200).</summary>
    None = 0,

    /// <summary>A reason string this library does not know (see <see cref="ApnsResponse.ReasonText"/>), or no body.</summary>
    Unknown,

    /// <summary>400: the collapse identifier exceeds the maximum allowed size (64 bytes).</summary>
    BadCollapseId,

    /// <summary>400: the device token is invalid, or belongs to the other environment.</summary>
    BadDeviceToken,

    /// <summary>400: the <c>apns-expiration</c> value is invalid.</summary>
    BadExpirationDate,

    /// <summary>400: the <c>apns-id</c> value is invalid.</summary>
    BadMessageId,

    /// <summary>400: the <c>apns-priority</c> value is invalid.</summary>
    BadPriority,

    /// <summary>400: the <c>apns-topic</c> is invalid.</summary>
    BadTopic,

    /// <summary>400: the device token does not match the specified topic.</summary>
    DeviceTokenNotForTopic,

    /// <summary>400: one or more headers are repeated.</summary>
    DuplicateHeaders,

    /// <summary>400: idle timeout; reconnect and resend.</summary>
    IdleTimeout,

    /// <summary>400: the <c>apns-push-type</c> value is invalid.</summary>
    InvalidPushType,

    /// <summary>400: the device token is not in the request <c>:path</c>.</summary>
    MissingDeviceToken,

    /// <summary>400: <c>apns-topic</c> is required but absent.</summary>
    MissingTopic,

    /// <summary>400: the message payload is empty.</summary>
    PayloadEmpty,

    /// <summary>400: pushing to this topic is not allowed.</summary>
    TopicDisallowed,

    /// <summary>403: the certificate is invalid.</summary>
    BadCertificate,

    /// <summary>403: the client certificate is for the wrong environment.</summary>
    BadCertificateEnvironment,

    /// <summary>403: the provider token is stale (<c>iat</c> more than one hour old); a new token is needed.</summary>
    ExpiredProviderToken,

    /// <summary>403: the specified action is not allowed.</summary>
    Forbidden,

    /// <summary>403: the provider token is not valid, or its signature cannot be verified.</summary>
    InvalidProviderToken,

    /// <summary>403: no provider certificate was used and no provider token was sent.</summary>
    MissingProviderToken,

    /// <summary>403: the key id in the token is unrelated to the key of the first push on this connection.</summary>
    UnrelatedKeyIdInToken,

    /// <summary>
    /// 403: the key in the token is restricted to the other environment. Apple's table spells it
    /// <c>BadEnvironmentKeyIdInToken</c>, APNs has been seen sending <c>BadEnvironmentKeyInToken</c>: both strings parse
    /// to this one value (<see cref="BadEnvironmentKeyInToken"/> is the same value).
    /// </summary>
    BadEnvironmentKeyIdInToken,

    /// <summary>The other spelling of <see cref="BadEnvironmentKeyIdInToken"/> (same value).</summary>
    BadEnvironmentKeyInToken = BadEnvironmentKeyIdInToken,

    /// <summary>404: the request <c>:path</c> is invalid.</summary>
    BadPath,

    /// <summary>405: the method is not POST.</summary>
    MethodNotAllowed,

    /// <summary>410: the device token has expired.</summary>
    ExpiredToken,

    /// <summary>410: the device token is inactive for the topic (see <see cref="ApnsResponse.Timestamp"/>).</summary>
    Unregistered,

    /// <summary>413: the payload is too large (4096 bytes, 5120 for VoIP).</summary>
    PayloadTooLarge,

    /// <summary>429: the provider token was changed too often (more than once per 20 minutes on a connection).</summary>
    TooManyProviderTokenUpdates,

    /// <summary>429: too many requests in a row to the same device token; retry with a delay.</summary>
    TooManyRequests,

    /// <summary>500: internal server error.</summary>
    InternalServerError,

    /// <summary>503: the service is unavailable.</summary>
    ServiceUnavailable,

    /// <summary>503: the APNs server is shutting down; reconnect.</summary>
    Shutdown,
}

/// <summary>Reason string parsing (ordinal, case-sensitive: Apple's strings are fixed).</summary>
internal static class ApnsReasons
{
    public static ApnsReason Parse(string? text) => text switch
    {
        null or "" => ApnsReason.Unknown,
        "BadCollapseId" => ApnsReason.BadCollapseId,
        "BadDeviceToken" => ApnsReason.BadDeviceToken,
        "BadExpirationDate" => ApnsReason.BadExpirationDate,
        "BadMessageId" => ApnsReason.BadMessageId,
        "BadPriority" => ApnsReason.BadPriority,
        "BadTopic" => ApnsReason.BadTopic,
        "DeviceTokenNotForTopic" => ApnsReason.DeviceTokenNotForTopic,
        "DuplicateHeaders" => ApnsReason.DuplicateHeaders,
        "IdleTimeout" => ApnsReason.IdleTimeout,
        "InvalidPushType" => ApnsReason.InvalidPushType,
        "MissingDeviceToken" => ApnsReason.MissingDeviceToken,
        "MissingTopic" => ApnsReason.MissingTopic,
        "PayloadEmpty" => ApnsReason.PayloadEmpty,
        "TopicDisallowed" => ApnsReason.TopicDisallowed,
        "BadCertificate" => ApnsReason.BadCertificate,
        "BadCertificateEnvironment" => ApnsReason.BadCertificateEnvironment,
        "ExpiredProviderToken" => ApnsReason.ExpiredProviderToken,
        "Forbidden" => ApnsReason.Forbidden,
        "InvalidProviderToken" => ApnsReason.InvalidProviderToken,
        "MissingProviderToken" => ApnsReason.MissingProviderToken,
        "UnrelatedKeyIdInToken" => ApnsReason.UnrelatedKeyIdInToken,
        "BadEnvironmentKeyIdInToken" or "BadEnvironmentKeyInToken" => ApnsReason.BadEnvironmentKeyIdInToken,
        "BadPath" => ApnsReason.BadPath,
        "MethodNotAllowed" => ApnsReason.MethodNotAllowed,
        "ExpiredToken" => ApnsReason.ExpiredToken,
        "Unregistered" => ApnsReason.Unregistered,
        "PayloadTooLarge" => ApnsReason.PayloadTooLarge,
        "TooManyProviderTokenUpdates" => ApnsReason.TooManyProviderTokenUpdates,
        "TooManyRequests" => ApnsReason.TooManyRequests,
        "InternalServerError" => ApnsReason.InternalServerError,
        "ServiceUnavailable" => ApnsReason.ServiceUnavailable,
        "Shutdown" => ApnsReason.Shutdown,
        _ => ApnsReason.Unknown,
    };

    /// <summary>The classification of <c>ApnsResponseClass</c> in the clients contract.</summary>
    public static ApnsResponseClass Classify(int statusCode, ApnsReason reason)
    {
        if (statusCode == 200)
        {
            return ApnsResponseClass.Accepted;
        }

        switch (reason)
        {
            case ApnsReason.Unregistered or ApnsReason.ExpiredToken:
                return ApnsResponseClass.TokenUnregistered;
            case ApnsReason.BadDeviceToken:
                return ApnsResponseClass.TokenInvalid;
            case ApnsReason.DeviceTokenNotForTopic:
                return ApnsResponseClass.TokenNotForTopic;
            case ApnsReason.ExpiredProviderToken:
                return ApnsResponseClass.ProviderTokenExpired;
            case ApnsReason.InvalidProviderToken or ApnsReason.MissingProviderToken or ApnsReason.BadCertificate
                or ApnsReason.BadCertificateEnvironment or ApnsReason.Forbidden or ApnsReason.BadEnvironmentKeyIdInToken
                or ApnsReason.UnrelatedKeyIdInToken or ApnsReason.TopicDisallowed or ApnsReason.BadTopic
                or ApnsReason.TooManyProviderTokenUpdates:
                return ApnsResponseClass.CredentialsRejected;
            case ApnsReason.TooManyRequests or ApnsReason.InternalServerError or ApnsReason.ServiceUnavailable
                or ApnsReason.Shutdown or ApnsReason.IdleTimeout:
                return ApnsResponseClass.Retryable;
        }

        // A known request-shaped reason, or a reason we do not know: decide by status. 410 always means the token
        // is gone whatever the reason text; 403 is always about our credentials.
        return statusCode switch
        {
            410 => ApnsResponseClass.TokenUnregistered,
            403 => ApnsResponseClass.CredentialsRejected,
            >= 400 and < 500 and not 408 and not 429 => ApnsResponseClass.RequestRejected,
            _ => ApnsResponseClass.Retryable,
        };
    }

    /// <summary>Answers after which the connection they came on should not carry more requests.</summary>
    public static bool RecyclesConnection(ApnsReason reason) => reason is ApnsReason.ExpiredProviderToken
        or ApnsReason.UnrelatedKeyIdInToken or ApnsReason.TooManyProviderTokenUpdates or ApnsReason.IdleTimeout
        or ApnsReason.Shutdown;
}
