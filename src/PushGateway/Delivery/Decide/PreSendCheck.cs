using PushGateway.Data;

namespace PushGateway.Delivery;

/// <summary>
/// What is decided about a claimed delivery before anything is sent: skipped when its endpoint, application or
/// message is gone, the endpoint is disabled, or its token went stale (not confirmed by the app within the
/// <see cref="StaleTokenOptions"/> limit; the background job disables such endpoints in batches, and until it gets
/// there they are not sent to either), expired when its TTL ran out in the queue, held while its application
/// is disabled. Null means "send it". The claim counted an attempt; none of these outcomes made one.
/// </summary>
internal static class PreSendCheck
{
    public static DeliveryResult? Decide(ClaimedDelivery delivery, bool applicationExists, bool applicationEnabled, bool messageExists, DateTimeOffset now,
        bool endpointStale = false)
    {
        var notAttempted = delivery.Attempts - 1;
        if (delivery.Token is null || !delivery.EndpointEnabled || !applicationExists || !messageExists || endpointStale)
        {
            var why = delivery.Token is null ? "endpoint deleted"
                : !delivery.EndpointEnabled ? "endpoint disabled"
                : !applicationExists ? "application deleted"
                : !messageExists ? "message deleted"
                : StaleSkipReason;
            return new DeliveryResult(delivery, DeliveryStates.Skipped, notAttempted, now, null, now, null, why, null);
        }

        if (now >= delivery.ExpiresAt)
        {
            return new DeliveryResult(delivery, DeliveryStates.Expired, notAttempted, now, null, now, null, "ttl expired before sending", null);
        }

        if (!applicationEnabled)
        {
            return new DeliveryResult(delivery, DeliveryStates.Held, notAttempted, delivery.ExpiresAt, null, null, null, null, null);
        }

        return null;
    }

    /// <summary>The receipt's reason for a delivery skipped because its token went stale.</summary>
    public const string StaleSkipReason = "endpoint stale: token not confirmed by the app within the StaleTokens limit";

    /// <summary>
    /// Not sent after all (shutdown, or its lease too close to running out to risk a request): the row is due again
    /// at once, with the attempt the claim counted taken back.
    /// </summary>
    public static DeliveryResult GiveBack(ClaimedDelivery delivery, DateTimeOffset now) =>
        new(delivery, DeliveryStates.Pending, delivery.Attempts - 1, now, null, null, null, null, null);

    /// <summary>
    /// Whether a request may still start: it must be answered (or time out) well before the lease runs out, or another
    /// worker could take the row and send it a second time while this one is still in flight.
    /// </summary>
    public static bool LeaseAllowsSending(DateTimeOffset leasedUntil, DateTimeOffset now, TimeSpan requestTimeout) =>
        leasedUntil - now > requestTimeout + LeaseMargin;

    /// <summary>Time kept in hand at the end of a lease for recording the result.</summary>
    public static readonly TimeSpan LeaseMargin = TimeSpan.FromSeconds(2);
}
