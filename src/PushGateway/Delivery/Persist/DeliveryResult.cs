namespace PushGateway.Delivery;

/// <param name="Unbind">The app was uninstalled (APNs 410, FCM UNREGISTERED): the device's login ends with it.</param>
internal sealed record EndpointDisable(Guid EndpointId, string TokenSent, string Reason, DateTimeOffset? Timestamp, bool Unbind = false);

/// <param name="RestoreEndpointsSince">
/// Set when the misconfiguration guard disables the application: endpoints of it that the answers it blames on the
/// application disabled since then are enabled again.
/// </param>
internal sealed record ApplicationDisable(Guid ApplicationId, int CredentialsVersion, string Reason, DateTimeOffset? RestoreEndpointsSince = null);

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
