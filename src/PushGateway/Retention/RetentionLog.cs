namespace PushGateway.Retention;

/// <summary>Retention log messages (event ids 9xxx).</summary>
internal static partial class RetentionLog
{
    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "Retention deleted {Messages} messages with {Deliveries} deliveries completed before {MessageCutoff:o} and {Keys} idempotency keys created before {KeyCutoff:o}")]
    public static partial void Deleted(this ILogger logger, long messages, long deliveries, DateTimeOffset messageCutoff, long keys, DateTimeOffset keyCutoff);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Warning, Message = "Retention failed; trying again next round")]
    public static partial void Failed(this ILogger logger, Exception exception);
}
