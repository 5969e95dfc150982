namespace PushGateway.Delivery;

/// <summary>What one send attempt means for the delivery, its endpoint and its application (contract section 4).</summary>
internal abstract record DeliveryOutcome(int? ProviderStatus, string? ProviderReason)
{
    public sealed record Delivered(int Status, string? ProviderId, string? UniqueId = null) : DeliveryOutcome(Status, null);

    /// <summary>
    /// The token is dead: fail the delivery and disable the endpoint (410 only if not re-registered after
    /// <paramref name="Timestamp"/>). <paramref name="Misconfiguration"/>, for the answers a configuration mistake
    /// also produces, names that mistake in an operator's words: when one application gets them en masse the
    /// <see cref="MisconfigurationGuard"/> blames the application instead of its devices. <paramref name="Uninstalled"/>:
    /// the app is gone from the device (APNs 410, FCM UNREGISTERED), which ends the device's login.
    /// </summary>
    public sealed record TokenDead(int Status, string Reason, string DisabledReason, DateTimeOffset? Timestamp, string? Misconfiguration = null, bool Uninstalled = false)
        : DeliveryOutcome(Status, Reason);

    /// <summary>The provider refused this message (payload, headers): fail it, keep the endpoint.</summary>
    public sealed record Rejected(int? Status, string Reason) : DeliveryOutcome(Status, Reason);

    /// <summary>Our credentials are wrong: hold the delivery and disable the application until it is fixed.</summary>
    public sealed record CredentialsFailed(int? Status, string Reason, string DisabledReason) : DeliveryOutcome(Status, Reason);

    /// <summary>
    /// A token death that the <see cref="MisconfigurationGuard"/> blames on the application: hold the delivery and
    /// disable the application with <paramref name="DisabledReason"/>; the endpoint stays enabled, and those disabled by
    /// such answers since <paramref name="Since"/> are restored.
    /// </summary>
    /// <paramref name="IsTrip"/>: the answer that tripped the guard (the one that may be probed).
    /// <paramref name="DeliveredByProbe"/>: the probe of this delivery's token against the other APNs environment was
    /// accepted, so this notification did reach its device.
    public sealed record Misconfigured(int Status, string Reason, string DisabledReason, DateTimeOffset Since, bool IsTrip = false, Delivered? DeliveredByProbe = null)
        : DeliveryOutcome(Status, Reason);

    /// <summary>Transient: try again later (<paramref name="After"/> from Retry-After), or at once.</summary>
    public sealed record Retry(int? Status, string Reason, TimeSpan? After, bool Immediately = false) : DeliveryOutcome(Status, Reason);
}
