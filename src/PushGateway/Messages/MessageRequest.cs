using System.Text.Json.Nodes;

namespace PushGateway.Messages;

/// <summary>The body of <c>POST /v1/messages</c> (and of each item of the batch route).</summary>
internal sealed class MessageRequest
{
    public required MessageTarget Target { get; init; }
    public NotificationRequest? Notification { get; init; }
    public Dictionary<string, string>? Data { get; init; }
    public int? TtlSeconds { get; init; }
    public string? Priority { get; init; }
    public string? CollapseKey { get; init; }
    public ApnsOverrides? Apns { get; init; }
    public FcmOverrides? Fcm { get; init; }
}

/// <summary>Exactly one of the six target kinds.</summary>
internal sealed class MessageTarget
{
    public Guid? EndpointId { get; init; }
    public Guid[]? EndpointIds { get; init; }
    public string? UserId { get; init; }
    public string[]? UserIds { get; init; }
    public string? Topic { get; init; }
    /// <summary>Every enabled endpoint of this application of the project (disabled ones are counted as skipped).</summary>
    public Guid? ApplicationId { get; init; }
}

internal sealed class NotificationRequest
{
    public string? Title { get; init; }
    public string? Body { get; init; }
    public string? Subtitle { get; init; }
    public int? Badge { get; init; }
    public string? Sound { get; init; }
    public string? Category { get; init; }
    public string? ThreadId { get; init; }
    public string? Image { get; init; }
}

internal sealed class ApnsOverrides
{
    public string? PushType { get; init; }
    public string? Topic { get; init; }
    /// <summary>Merged into the APNs JSON; wins over what <c>notification</c> and <c>data</c> produced.</summary>
    public JsonObject? Payload { get; init; }
}

internal sealed class FcmOverrides
{
    /// <summary>Merged into the FCM v1 message (android, apns, webpush, fcm_options…); wins over the rest.</summary>
    public JsonObject? Message { get; init; }
}

internal sealed class BatchRequest
{
    public required System.Text.Json.JsonElement[] Messages { get; init; }
}

/// <summary>The 202: <c>targetCount</c> is null for a fan-out (user, users, topic, application), whose deliveries are
/// inserted after the commit; <c>GET /v1/messages/{id}</c> shows it once known.</summary>
internal sealed record MessageAccepted(Guid Id, string Status, int? TargetCount);
