namespace PushGateway.Delivery;

internal sealed record EndpointDisable(Guid EndpointId, string TokenSent, string Reason, DateTimeOffset? Timestamp);

internal sealed record ApplicationDisable(Guid ApplicationId, int CredentialsVersion, string Reason);

/// <summary>
/// The new state of a leased delivery, and what it does to its endpoint and application. A result with
/// <see cref="LastAttemptAt"/> describes a provider attempt made now; its provider fields replace the receipt's.
/// </summary>
internal sealed record DeliveryResult(
    ClaimedDelivery Delivery,
    string State,
    int Attempts,
    DateTimeOffset NextAttemptAt,
    DateTimeOffset? LastAttemptAt,
    DateTimeOffset? CompletedAt,
    int? ProviderStatus,
    string? ProviderReason,
    string? ProviderId,
    EndpointDisable? DisableEndpoint = null,
    ApplicationDisable? DisableApplication = null)
{
    /// <summary>For metrics: the provider, and when the message was accepted.</summary>
    public string Platform { get; set; } = "unknown";
    public string? ProviderUniqueId { get; set; }
    public DateTimeOffset? AcceptedAt { get; set; }
}
