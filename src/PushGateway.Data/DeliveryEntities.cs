namespace PushGateway.Data;

public static class TargetKinds
{
    public const string Endpoint = "endpoint";
    public const string Endpoints = "endpoints";
    public const string User = "user";
    public const string Users = "users";
    public const string Topic = "topic";
    /// <summary>Every endpoint of one application.</summary>
    public const string Application = "application";
}

/// <summary>One send request. The provider payloads are built (and size-checked) when it is accepted.</summary>
public sealed class Message
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public required string TargetKind { get; set; }
    /// <summary>The target as given (JSON), for the record.</summary>
    public required string Target { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>When the message stops being worth sending: created + TTL.</summary>
    public DateTimeOffset ExpiresAt { get; set; }
    public int TtlSeconds { get; set; }
    public int TargetCount { get; set; }
    public string? IdempotencyKey { get; set; }

    /// <summary>
    /// The id range its deliveries were inserted in (one transaction, so one narrow range). Receipts are read through
    /// the primary key within it: no index on deliveries.message_id to maintain on every insert and update.
    /// </summary>
    public long? FirstDeliveryId { get; set; }
    public long? LastDeliveryId { get; set; }

    /// <summary>The APNs JSON payload (UTF-8), already merged with <c>apns.payload</c>.</summary>
    public byte[]? ApnsPayload { get; set; }
    public string? ApnsPushType { get; set; }
    public int? ApnsPriority { get; set; }
    /// <summary><c>apns.topic</c> when the sender overrides the application's bundle id (+ push type suffix).</summary>
    public string? ApnsTopic { get; set; }
    public string? CollapseKey { get; set; }
    /// <summary>The FCM v1 <c>message</c> object without its target, already merged with <c>fcm.message</c>.</summary>
    public string? FcmMessage { get; set; }
}

/// <summary>
/// A fan-out (user, users, topic, application target) whose deliveries are still being inserted: written with its
/// message when it is accepted and deleted by the transaction that inserts its last deliveries. Each expansion
/// transaction locks the row, inserts the next batch of deliveries in endpoint order after <see cref="After"/> and
/// moves <see cref="After"/> past them before it commits, so an expansion resumes where it stopped and never inserts
/// an endpoint twice.
/// </summary>
public sealed class MessageExpansion
{
    public Guid MessageId { get; set; }
    /// <summary>The topic or application the target named, resolved when the message was accepted.</summary>
    public Guid? ScopeId { get; set; }
    /// <summary>The users of a user or users target.</summary>
    public string[]? UserIds { get; set; }
    /// <summary>The last endpoint id expanded (the nil UUID before the first batch).</summary>
    public Guid After { get; set; }
    /// <summary>Batches done so far.</summary>
    public int Batches { get; set; }
    /// <summary>When the last batch committed (or the message was accepted): expansions take turns by it.</summary>
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// A message's finished deliveries, counted as they finish so that reading a message never recounts its deliveries.
/// A message has up to <see cref="Slots"/> rows: each result transaction adds its group's numbers (<c>+ n</c>) to the
/// row of its database session's slot, so workers writing results of one fan-out at the same time rarely wait on one
/// another's row lock; readers add the rows up. Pending (or held) is the message's target count minus the finished
/// ones, so accepting a message writes nothing here unless some targets were skipped at once.
/// </summary>
public sealed class MessageCount
{
    public const int Slots = 16;

    public Guid MessageId { get; set; }
    public short Slot { get; set; }
    public long Delivered { get; set; }
    public long Failed { get; set; }
    public long Expired { get; set; }
    public long Skipped { get; set; }
    /// <summary>Results recorded that left a delivery pending or held after an attempt (a retry): the message is sending.</summary>
    public long Retried { get; set; }
    /// <summary>The latest completion among the deliveries counted in this row.</summary>
    public DateTimeOffset? LastCompletedAt { get; set; }
}

public static class DeliveryStates
{
    public const string Pending = "pending";
    /// <summary>Waiting for its application to get working credentials again (or for the TTL to run out).</summary>
    public const string Held = "held";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    public const string Expired = "expired";
    public const string Skipped = "skipped";
}

/// <summary>
/// One message for one endpoint: a row of the durable queue while pending (picked with FOR UPDATE SKIP LOCKED and
/// leased: the claim commits <see cref="LeaseOwner"/>, <see cref="LeasedUntil"/> and moves <see cref="NextAttemptAt"/>
/// to the lease's end, so an expired lease makes the row due again), the receipt afterwards.
/// </summary>
public sealed class Delivery
{
    public long Id { get; set; }
    public Guid MessageId { get; set; }
    public Guid EndpointId { get; set; }
    public Guid ApplicationId { get; set; }
    public string State { get; set; } = DeliveryStates.Pending;
    public int Attempts { get; set; }
    /// <summary>Pending: when it is due. Claimed: when the lease runs out and another worker may take it.</summary>
    public DateTimeOffset NextAttemptAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? LastAttemptAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public int? ProviderStatus { get; set; }
    public string? ProviderReason { get; set; }
    public string? ProviderId { get; set; }
    /// <summary>APNs sandbox's <c>apns-unique-id</c>: the key to the delivery log in Apple's Push Notifications Console.</summary>
    public string? ProviderUniqueId { get; set; }
    /// <summary>The worker process holding the lease (null when not leased).</summary>
    public Guid? LeaseOwner { get; set; }
    /// <summary>When the current lease runs out (null when not leased).</summary>
    public DateTimeOffset? LeasedUntil { get; set; }
}

/// <summary>An <c>Idempotency-Key</c> and the first response given for it (kept 24 hours).</summary>
public sealed class IdempotencyRecord
{
    public Guid ProjectId { get; set; }
    public required string Key { get; set; }
    public required string RequestHash { get; set; }
    public int StatusCode { get; set; }
    public required string Response { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
