namespace PushGateway.Apns;

/// <summary>
/// What the gateway should do with an APNs answer. Derived from the status and reason as laid out in Apple's
/// "Handling notification responses from APNs" table.
/// <see href="https://developer.apple.com/documentation/usernotifications/handling-notification-responses-from-apns"/>
/// </summary>
public enum ApnsResponseClass
{
    /// <summary>200: APNs accepted the notification.</summary>
    Accepted,

    /// <summary>
    /// 410 <c>Unregistered</c> / <c>ExpiredToken</c>: the token is no longer valid for the topic. Delete it only if it
    /// was not registered again after <see cref="ApnsResponse.Timestamp"/>.
    /// </summary>
    TokenUnregistered,

    /// <summary>400 <c>BadDeviceToken</c>: malformed, or a token of the other environment.</summary>
    TokenInvalid,

    /// <summary>400 <c>DeviceTokenNotForTopic</c>: the token belongs to another topic (app or push type).</summary>
    TokenNotForTopic,

    /// <summary>400/404/405/413 payload or header problems: fail the message, keep the token.</summary>
    RequestRejected,

    /// <summary>
    /// 403 <c>ExpiredProviderToken</c>: the client has already discarded that provider token and the connection it
    /// came on; sending again at once uses a fresh token.
    /// </summary>
    ProviderTokenExpired,

    /// <summary>
    /// Our credentials or setup are wrong: 403 <c>InvalidProviderToken</c>, <c>MissingProviderToken</c>,
    /// <c>BadCertificate</c>, <c>BadCertificateEnvironment</c>, <c>Forbidden</c>, <c>BadEnvironmentKey(Id)InToken</c>,
    /// <c>UnrelatedKeyIdInToken</c>; 400 <c>TopicDisallowed</c>, <c>BadTopic</c>; 429 <c>TooManyProviderTokenUpdates</c>.
    /// Retrying will not help until the configuration is fixed.
    /// </summary>
    CredentialsRejected,

    /// <summary>
    /// Transient: 429 <c>TooManyRequests</c>, 500, 503 (incl. <c>Shutdown</c>), 400 <c>IdleTimeout</c>, and every
    /// transport failure (no answer, reset stream, TLS failure, timeout). Honour <see cref="ApnsResponse.RetryAfter"/>.
    /// </summary>
    Retryable,
}

/// <summary>
/// The outcome of one <see cref="ApnsClient.SendAsync"/>: an APNs answer, a local rejection made before sending, or a
/// transport failure. Never an exception.
/// </summary>
public sealed class ApnsResponse
{
    private ApnsResponse(
        int statusCode,
        ApnsReason reason,
        string? reasonText,
        DateTimeOffset? timestamp,
        Guid? apnsId,
        string? apnsUniqueId,
        TimeSpan? retryAfter,
        string? transportError,
        bool isLocal)
    {
        StatusCode = statusCode;
        Reason = reason;
        ReasonText = reasonText;
        Timestamp = timestamp;
        ApnsId = apnsId;
        ApnsUniqueId = apnsUniqueId;
        RetryAfter = retryAfter;
        TransportError = transportError;
        IsLocalRejection = isLocal;
        Class = transportError is not null ? ApnsResponseClass.Retryable : ApnsReasons.Classify(statusCode, reason);
    }

    /// <summary>The HTTP status; 0 when no HTTP answer arrived (transport failure or timeout).</summary>
    public int StatusCode { get; }

    /// <summary>True for 200: APNs accepted the notification (delivery itself is best effort).</summary>
    public bool IsAccepted => StatusCode == 200;

    /// <summary>The parsed reason; <see cref="ApnsReason.None"/> on 200 and on transport failures.</summary>
    public ApnsReason Reason { get; }

    /// <summary>The reason string exactly as received (e.g. either BadEnvironmentKey spelling), or null.</summary>
    public string? ReasonText { get; }

    /// <summary>
    /// 410 only: when APNs confirmed the token was no longer valid for the topic (the body's epoch milliseconds).
    /// </summary>
    public DateTimeOffset? Timestamp { get; }

    /// <summary>The <c>apns-id</c> header of the answer (the request's, or one APNs generated).</summary>
    public Guid? ApnsId { get; }

    /// <summary>The <c>apns-unique-id</c> header; only the sandbox sends it (Push Notifications Console lookups).</summary>
    public string? ApnsUniqueId { get; }

    /// <summary>The <c>Retry-After</c> header, when present (delta seconds, or an HTTP date turned into a delay).</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>
    /// True when no HTTP answer arrived: connection refused or reset, stream reset, TLS failure, or
    /// <see cref="ApnsClientOptions.RequestTimeout"/> elapsed. Always <see cref="ApnsResponseClass.Retryable"/>.
    /// </summary>
    public bool IsTransportFailure => TransportError is not null;

    /// <summary>A short description of the transport failure (no secrets, no device token), or null.</summary>
    public string? TransportError { get; }

    /// <summary>
    /// True when the client answered itself without sending anything (payload over the limit, malformed device
    /// token); the status and reason are then those APNs would have given. A header value that cannot be sent
    /// (<see cref="ApnsHeaderValues"/>) gives 400 with <see cref="ReasonText"/>
    /// <see cref="ApnsHeaderValues.InvalidHeaderValueReason"/>, a reason of the client's own.
    /// </summary>
    public bool IsLocalRejection { get; }

    /// <summary>What to do with this answer.</summary>
    public ApnsResponseClass Class { get; }

    /// <summary>Builds an answer as if APNs had sent it (for the client itself and for callers' tests).</summary>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="reasonText">The <c>reason</c> string, or null (200).</param>
    /// <param name="apnsId">The <c>apns-id</c> header.</param>
    /// <param name="apnsUniqueId">The <c>apns-unique-id</c> header.</param>
    /// <param name="timestamp">The 410 timestamp.</param>
    /// <param name="retryAfter">The <c>Retry-After</c> header.</param>
    public static ApnsResponse FromHttp(
        int statusCode,
        string? reasonText,
        Guid? apnsId = null,
        string? apnsUniqueId = null,
        DateTimeOffset? timestamp = null,
        TimeSpan? retryAfter = null)
    {
        var reason = statusCode == 200 ? ApnsReason.None : ApnsReasons.Parse(reasonText);
        return new ApnsResponse(statusCode, reason, reasonText, timestamp, apnsId, apnsUniqueId, retryAfter, null, false);
    }

    /// <summary>Builds a transport failure (status 0, <see cref="ApnsResponseClass.Retryable"/>).</summary>
    /// <param name="error">A short description without secrets.</param>
    public static ApnsResponse FromTransportFailure(string error)
    {
        ArgumentException.ThrowIfNullOrEmpty(error);
        return new ApnsResponse(0, ApnsReason.None, null, null, null, null, null, error, false);
    }

    internal static ApnsResponse LocalRejection(int statusCode, string reasonText) =>
        new(statusCode, ApnsReasons.Parse(reasonText), reasonText, null, null, null, null, null, true);

    // The 200 answer is the hot path: skip the reason parsing and classification switch.
    internal static ApnsResponse Accepted(Guid? apnsId, string? apnsUniqueId) =>
        new(200, ApnsReason.None, null, null, apnsId, apnsUniqueId, null, null, false);

    /// <inheritdoc/>
    public override string ToString() => IsTransportFailure
        ? $"transport failure: {TransportError}"
        : $"{StatusCode} {ReasonText ?? (IsAccepted ? "OK" : "")} ({Class})";
}
