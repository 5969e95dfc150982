namespace PushGateway.Simulator.Apns;

internal enum AnswerAction
{
    /// <summary>Write a normal HTTP answer.</summary>
    Respond,

    /// <summary>RST_STREAM (HTTP/2) or abort the connection (HTTP/1.1): no answer at all.</summary>
    Reset,

    /// <summary>Never answer; the client must time out.</summary>
    Hang,
}

/// <summary>What the simulator answers to one APNs request. <c>default</c> = no decision yet.</summary>
internal readonly record struct ApnsOutcome(
    int Status,
    string? Reason,
    long? Timestamp = null,
    int? RetryAfter = null,
    AnswerAction Action = AnswerAction.Respond,
    bool GoAway = false)
{
    public bool IsDecided => Status != 0 || Action != AnswerAction.Respond;

    public static ApnsOutcome Accepted { get; } = new(200, null);

    public static ApnsOutcome Reject(int status, string reason) => new(status, reason);

    /// <summary>The APNs answer of a preset (either platform's names; FCM ones map to their APNs counterparts).</summary>
    public static ApnsOutcome FromPreset(string preset, long timestampMs, int? retryAfter) => preset switch
    {
        TokenPresets.Ok => Accepted,
        TokenPresets.Unregistered or TokenPresets.FcmUnregistered => new(410, ApnsReasons.Unregistered, timestampMs, retryAfter),
        TokenPresets.ExpiredToken => new(410, ApnsReasons.ExpiredToken, timestampMs, retryAfter),
        TokenPresets.BadDeviceToken or TokenPresets.FcmInvalidToken => new(400, ApnsReasons.BadDeviceToken, RetryAfter: retryAfter),
        TokenPresets.NotForTopic or TokenPresets.FcmSenderMismatch => new(400, ApnsReasons.DeviceTokenNotForTopic, RetryAfter: retryAfter),
        TokenPresets.TooManyRequests or TokenPresets.FcmQuotaExceeded or TokenPresets.FcmProjectQuota =>
            new(429, ApnsReasons.TooManyRequests, RetryAfter: retryAfter),
        TokenPresets.InternalError or TokenPresets.FcmInternal => new(500, ApnsReasons.InternalServerError, RetryAfter: retryAfter),
        TokenPresets.ServiceUnavailable or TokenPresets.FcmUnavailable => new(503, ApnsReasons.ServiceUnavailable, RetryAfter: retryAfter),
        TokenPresets.Shutdown => new(503, ApnsReasons.Shutdown, RetryAfter: retryAfter, GoAway: true),
        TokenPresets.IdleTimeout => new(400, ApnsReasons.IdleTimeout, RetryAfter: retryAfter),
        TokenPresets.PayloadTooLarge => new(413, ApnsReasons.PayloadTooLarge, RetryAfter: retryAfter),
        TokenPresets.FcmInvalidPayload => new(400, ApnsReasons.BadPayload, RetryAfter: retryAfter),
        TokenPresets.FcmThirdPartyAuth => new(403, ApnsReasons.InvalidProviderToken, RetryAfter: retryAfter),
        TokenPresets.Reset => new(0, "reset", Action: AnswerAction.Reset),
        TokenPresets.Hang => new(0, "hang", Action: AnswerAction.Hang),
        _ => default,
    };
}
