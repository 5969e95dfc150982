namespace PushGateway.Messages;

/// <summary>Fan-out expansion log messages (event ids 3xxx).</summary>
internal static partial class ExpansionLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Message {MessageId} expanded into {TargetCount} deliveries in {Batches} batch(es)")]
    public static partial void Expanded(this ILogger logger, Guid messageId, long targetCount, int batches);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Fan-out expansion failed; retrying")]
    public static partial void ExpansionFailed(this ILogger logger, Exception exception);
}
