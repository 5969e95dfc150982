namespace PushGateway.Fcm;

/// <summary>
/// The outcome of one <c>messages:send</c> call: FCM's answer, a local refusal, or a transport failure. Every
/// expected outcome is one of these, never an exception. <see cref="Class"/> says what to do with it.
/// </summary>
public sealed class FcmResponse
{
    internal FcmResponse(
        int statusCode,
        string? messageName,
        string? errorStatus,
        string? errorCodeText,
        string? errorMessage,
        TimeSpan? retryAfter,
        FcmResponseClass responseClass,
        string? transportError = null,
        string? tokenEndpointError = null,
        bool isLocalRejection = false)
    {
        StatusCode = statusCode;
        MessageName = messageName;
        ErrorStatus = errorStatus;
        ErrorCodeText = errorCodeText;
        ErrorCode = FcmErrorParser.ParseErrorCode(errorCodeText);
        ErrorMessage = errorMessage;
        RetryAfter = retryAfter;
        Class = responseClass;
        TransportError = transportError;
        TokenEndpointError = tokenEndpointError;
        IsLocalRejection = isLocalRejection;
    }

    /// <summary>HTTP status of FCM's answer; 0 when no HTTP answer arrived (transport failure, timeout, no access token).</summary>
    public int StatusCode { get; }

    /// <summary>True when FCM accepted the message (2xx).</summary>
    public bool IsSuccess => Class == FcmResponseClass.Delivered;

    /// <summary>The accepted message's resource name, <c>projects/{project}/messages/{id}</c>.</summary>
    public string? MessageName { get; }

    /// <summary>The canonical gRPC status string of the error envelope (<c>error.status</c>), e.g. <c>NOT_FOUND</c>.</summary>
    public string? ErrorStatus { get; }

    /// <summary>The FcmError detail's code; <see cref="FcmErrorCode.None"/> when the answer has no FcmError detail.</summary>
    public FcmErrorCode ErrorCode { get; }

    /// <summary>The FcmError <c>errorCode</c> exactly as received (e.g. <c>APNS_AUTH_ERROR</c>), or null.</summary>
    public string? ErrorCodeText { get; }

    /// <summary><c>error.message</c> of the envelope, or a short local description.</summary>
    public string? ErrorMessage { get; }

    /// <summary>The <c>Retry-After</c> header (seconds or an HTTP date, made relative to the options' clock), if any.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>True when no HTTP answer came back: connection or TLS failure, reset, timeout, or the OAuth token endpoint unreachable.</summary>
    public bool IsTransportFailure => TransportError is not null;

    /// <summary>
    /// Short description of the transport failure (no secrets, no device token). When the token endpoint was the
    /// problem it is a fixed code: <c>oauth:unreachable</c>, <c>oauth:timeout</c>, <c>oauth:http_503</c> and the like
    /// (see <see cref="FcmTokenErrors"/>).
    /// </summary>
    public string? TransportError { get; }

    /// <summary>
    /// Set when no access token could be obtained because the token endpoint refused the service account: a fixed
    /// code, <c>oauth:&lt;error&gt;</c> for a known OAuth error (usually <c>oauth:invalid_grant</c>) or
    /// <c>oauth:http_&lt;status&gt;</c> (see <see cref="FcmTokenErrors"/>); never the endpoint's own text. Nothing was
    /// sent to FCM.
    /// </summary>
    public string? TokenEndpointError { get; }

    /// <summary>True when the library refused the message itself (too big) and sent nothing.</summary>
    public bool IsLocalRejection { get; }

    /// <summary>What to do with this answer.</summary>
    public FcmResponseClass Class { get; }

    /// <summary>HTTP version of the answer (tests check that HTTP/2 was negotiated).</summary>
    internal Version? ProtocolVersion { get; private set; }

    internal FcmResponse WithProtocolVersion(Version version)
    {
        ProtocolVersion = version;
        return this;
    }

    /// <inheritdoc />
    public override string ToString() => Class switch
    {
        FcmResponseClass.Delivered => $"Delivered {MessageName}",
        _ when TransportError is not null => $"{Class}: transport failure: {TransportError}",
        _ when TokenEndpointError is not null => $"{Class}: no access token: {TokenEndpointError}",
        _ => $"{Class}: HTTP {StatusCode} {ErrorStatus} {ErrorCodeText} {ErrorMessage}".TrimEnd(),
    };
}
