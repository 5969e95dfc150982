namespace PushGateway.Fcm;

/// <summary>What the caller should do with an answer; the full table is in the library README.</summary>
public enum FcmResponseClass
{
    /// <summary>2xx: FCM accepted the message (or, with <c>validate_only</c>, found it valid).</summary>
    Delivered,

    /// <summary>
    /// The registration token is dead or unusable for this project: 404 <c>UNREGISTERED</c>; 400 <c>INVALID_ARGUMENT</c>
    /// whose message says the registration token is not a valid FCM registration token; 403 <c>SENDER_ID_MISMATCH</c>.
    /// </summary>
    TokenInvalid,

    /// <summary>The message itself is wrong (other 400s, other 4xx, too big, including the local size check): fail the message, keep the token.</summary>
    RequestRejected,

    /// <summary>
    /// A configuration problem of the channel: <c>THIRD_PARTY_AUTH_ERROR</c>/<c>APNS_AUTH_ERROR</c>; 401/403 without FcmError
    /// that persisted after one fresh OAuth token; 404 without FcmError (wrong base URL or project); the token endpoint
    /// refusing the service account (for example <c>invalid_grant</c>).
    /// </summary>
    CredentialsRejected,

    /// <summary>Try again later: 408, 429 (with or without FcmError), 5xx, transport failures and timeouts, token endpoint unreachable or failing with 5xx.</summary>
    Retryable,
}
