namespace PushGateway.Delivery;

/// <summary>
/// A delivery leased by this worker, with its endpoint's current token (null when the endpoint is gone).
/// <see cref="Attempts"/> counts the attempt about to be made (the claim committed it); <see cref="LeasedUntil"/> is
/// when the row becomes due again for any worker if this one has not recorded a result by then;
/// <see cref="TokenUpdatedAt"/> is when the app last confirmed the token (for the staleness policy).
/// </summary>
internal sealed record ClaimedDelivery(
    long Id,
    Guid MessageId,
    Guid EndpointId,
    Guid ApplicationId,
    int Attempts,
    DateTimeOffset ExpiresAt,
    string? Token,
    bool EndpointEnabled,
    DateTimeOffset LeasedUntil,
    DateTimeOffset? TokenUpdatedAt = null);
