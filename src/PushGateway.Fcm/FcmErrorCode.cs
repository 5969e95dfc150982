namespace PushGateway.Fcm;

/// <summary>
/// The <c>errorCode</c> of the <c>google.firebase.fcm.v1.FcmError</c> detail of an error answer.
/// See https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode.
/// </summary>
public enum FcmErrorCode
{
    /// <summary>The answer had no FcmError detail (success, project quota 429, our own OAuth problems, non-JSON bodies).</summary>
    None,

    /// <summary><c>UNSPECIFIED_ERROR</c>: no more information is available.</summary>
    UnspecifiedError,

    /// <summary><c>INVALID_ARGUMENT</c> (400): a bad field, or a malformed registration token (see the message).</summary>
    InvalidArgument,

    /// <summary><c>UNREGISTERED</c> (404): the app instance is gone; remove the token.</summary>
    Unregistered,

    /// <summary><c>SENDER_ID_MISMATCH</c> (403): the token belongs to another Firebase project.</summary>
    SenderIdMismatch,

    /// <summary><c>QUOTA_EXCEEDED</c> (429): project, device or topic rate exceeded; back off (at least a minute for project/topic).</summary>
    QuotaExceeded,

    /// <summary><c>UNAVAILABLE</c> (503): FCM is overloaded; honour <c>Retry-After</c>.</summary>
    Unavailable,

    /// <summary><c>INTERNAL</c> (500): unknown server error; retry with back-off.</summary>
    Internal,

    /// <summary>
    /// <c>THIRD_PARTY_AUTH_ERROR</c> (401), also its older spelling <c>APNS_AUTH_ERROR</c>: the APNs certificate/key or the
    /// web-push credentials configured in the Firebase project are invalid or missing.
    /// </summary>
    ThirdPartyAuthError,

    /// <summary>An FcmError detail with an <c>errorCode</c> this library does not know; see <see cref="FcmResponse.ErrorCodeText"/>.</summary>
    Unknown,
}
