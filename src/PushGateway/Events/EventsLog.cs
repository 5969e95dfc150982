namespace PushGateway.Events;

/// <summary>
/// Webhook log messages (event ids 6xxx). They name events, applications and outcomes only: never a secret, a
/// webhook body (it holds the device token) or a webhook URL (it may carry a token of its own).
/// </summary>
internal static partial class EventsLog
{
    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Webhook dispatcher started (concurrency {MaxConcurrency}, per application {PerApplication}, timeout {Timeout}, retry window {RetryWindow})")]
    public static partial void DispatcherStarted(this ILogger logger, int maxConcurrency, int perApplication, TimeSpan timeout, TimeSpan retryWindow);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Webhook dispatcher iteration failed; retrying")]
    public static partial void IterationFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Writing {Count} webhook results failed; retrying")]
    public static partial void ResultWriteFailed(this ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Debug, Message = "Event {EventId} ({EventType}) delivered to the webhook of application {ApplicationId} (attempt {Attempt})")]
    public static partial void Delivered(this ILogger logger, Guid eventId, string eventType, Guid applicationId, int attempt);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Information, Message = "Event {EventId} ({EventType}) to the webhook of application {ApplicationId} failed ({Error}, attempt {Attempt}); next attempt at {NextAttemptAt:o}")]
    public static partial void WillRetry(this ILogger logger, Guid eventId, string eventType, Guid applicationId, string error, int attempt, DateTimeOffset nextAttemptAt);

    [LoggerMessage(EventId = 6012, Level = LogLevel.Warning, Message = "Event {EventId} ({EventType}) to the webhook of application {ApplicationId} failed for good after {Attempt} attempts: {Error}")]
    public static partial void FailedForGood(this ILogger logger, Guid eventId, string eventType, Guid applicationId, int attempt, string error);

    [LoggerMessage(EventId = 6013, Level = LogLevel.Warning, Message = "The webhook secret of application {ApplicationId} cannot be decrypted (was the encryption key changed?); set the application's events again")]
    public static partial void SecretUnusable(this ILogger logger, Guid applicationId);

    [LoggerMessage(EventId = 6020, Level = LogLevel.Debug, Message = "Claimed {Sent} events to send, skipped {Skipped}, parked {Parked} behind earlier events of their endpoint")]
    public static partial void Claimed(this ILogger logger, int sent, int skipped, int parked);

    [LoggerMessage(EventId = 6030, Level = LogLevel.Information, Message = "Event retention deleted {Count} delivered or skipped events created before {Cutoff:o}")]
    public static partial void RetentionDeleted(this ILogger logger, int count, DateTimeOffset cutoff);

    [LoggerMessage(EventId = 6031, Level = LogLevel.Warning, Message = "Event retention failed; trying again next round")]
    public static partial void RetentionFailed(this ILogger logger, Exception exception);
}
