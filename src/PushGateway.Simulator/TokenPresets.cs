namespace PushGateway.Simulator;

/// <summary>
/// Preset names for <see cref="TokenBehavior.Preset"/>. A preset of one platform used on the other maps to that
/// platform's nearest answer (for example <c>unregistered</c> on FCM answers like <c>fcmUnregistered</c>).
/// </summary>
public static class TokenPresets
{
    public const string Ok = "ok";
    public const string Unregistered = "unregistered";
    public const string ExpiredToken = "expiredToken";
    public const string BadDeviceToken = "badDeviceToken";
    public const string NotForTopic = "notForTopic";
    public const string TooManyRequests = "tooManyRequests";
    public const string InternalError = "internalError";
    public const string ServiceUnavailable = "serviceUnavailable";
    public const string Shutdown = "shutdown";
    public const string IdleTimeout = "idleTimeout";
    public const string PayloadTooLarge = "payloadTooLarge";
    public const string Reset = "reset";
    public const string Hang = "hang";

    public const string FcmUnregistered = "fcmUnregistered";
    public const string FcmInvalidToken = "fcmInvalidToken";
    public const string FcmInvalidPayload = "fcmInvalidPayload";
    public const string FcmSenderMismatch = "fcmSenderMismatch";
    public const string FcmQuotaExceeded = "fcmQuotaExceeded";
    public const string FcmProjectQuota = "fcmProjectQuota";
    public const string FcmUnavailable = "fcmUnavailable";
    public const string FcmInternal = "fcmInternal";
    public const string FcmThirdPartyAuth = "fcmThirdPartyAuth";

    /// <summary>Every accepted preset name.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        Ok, Unregistered, ExpiredToken, BadDeviceToken, NotForTopic, TooManyRequests, InternalError, ServiceUnavailable,
        Shutdown, IdleTimeout, PayloadTooLarge, Reset, Hang,
        FcmUnregistered, FcmInvalidToken, FcmInvalidPayload, FcmSenderMismatch, FcmQuotaExceeded, FcmProjectQuota,
        FcmUnavailable, FcmInternal, FcmThirdPartyAuth,
    ];

    internal static bool IsKnown(string name) => All.Contains(name, StringComparer.Ordinal);
}
