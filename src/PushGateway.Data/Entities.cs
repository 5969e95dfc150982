namespace PushGateway.Data;

/// <summary>A tenant. Everything else hangs off a project; nothing crosses projects.</summary>
public sealed class Project
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A project API key. Only the SHA-256 of the key is stored; the key itself is shown once.</summary>
public sealed class ApiKey
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public required string Name { get; set; }
    public required string KeyHash { get; set; }
    /// <summary>The first characters of the key, so an operator can tell keys apart without the secret.</summary>
    public required string Prefix { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

public static class Platforms
{
    public const string Apns = "apns";
    public const string Fcm = "fcm";
}

public static class ApnsEnvironments
{
    public const string Production = "production";
    public const string Sandbox = "sandbox";
}

public static class CredentialTypes
{
    public const string Token = "token";
    public const string Certificate = "certificate";
    public const string ServiceAccount = "serviceAccount";
}

/// <summary>One mobile app on one push platform with its (encrypted) provider credentials.</summary>
public sealed class Application
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public required string Name { get; set; }
    public required string Platform { get; set; }
    public string? Environment { get; set; }
    public required string CredentialsType { get; set; }
    /// <summary>The non-secret description of the credentials (team id, key id, bundle id, client email, notAfter), as JSON.</summary>
    public required string CredentialsInfo { get; set; }
    /// <summary>AES-GCM ciphertext of the full credentials JSON.</summary>
    public required byte[] CredentialsCiphertext { get; set; }
    /// <summary>Bumped on every credential change so delivery caches know to rebuild their clients.</summary>
    public int CredentialsVersion { get; set; }
    public bool Enabled { get; set; } = true;
    public string? DisabledReason { get; set; }
    public DateTimeOffset? DisabledAt { get; set; }
    public string? EventsUrl { get; set; }
    public byte[]? EventsSecretCiphertext { get; set; }
    public string[] EventsTypes { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One device token under one application (an SNS platform endpoint).</summary>
public sealed class PlatformEndpoint
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public Guid ApplicationId { get; set; }
    public required string Token { get; set; }
    public bool Enabled { get; set; } = true;
    public string? CustomUserData { get; set; }
    public string? UserId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>The last time the app confirmed this token (registration or token change).</summary>
    public DateTimeOffset TokenUpdatedAt { get; set; }
    public DateTimeOffset? DisabledAt { get; set; }
    public string? DisabledReason { get; set; }
}

public sealed class Topic
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public required string Name { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public sealed class TopicSubscription
{
    public Guid TopicId { get; set; }
    public Guid EndpointId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public static class EventTypes
{
    public const string EndpointCreated = "endpointCreated";
    public const string EndpointUpdated = "endpointUpdated";
    public const string EndpointDeleted = "endpointDeleted";
    public const string DeliveryFailure = "deliveryFailure";
    /// <summary>An application event: the gateway disabled the application (the misconfiguration guard tripped).</summary>
    public const string ApplicationDisabled = "applicationDisabled";

    public static readonly string[] All = [EndpointCreated, EndpointUpdated, EndpointDeleted, DeliveryFailure, ApplicationDisabled];
}

public static class EventStates
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    /// <summary>The application has no webhook for this type; nothing to send.</summary>
    public const string Skipped = "skipped";
}

/// <summary>
/// An outbox row: written in the same transaction as the change that raised it, delivered to the application's
/// webhook by the event dispatcher.
/// </summary>
public sealed class OutboxEvent
{
    public long Sequence { get; set; }
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public Guid ApplicationId { get; set; }
    public Guid? EndpointId { get; set; }
    public required string Type { get; set; }
    /// <summary>The webhook body, as JSON.</summary>
    public required string Payload { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string State { get; set; } = EventStates.Pending;
    public int Attempts { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public string? LastError { get; set; }
}
