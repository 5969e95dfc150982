using PushGateway.Data;

namespace PushGateway.Delivery;

/// <summary>
/// The outcome table of the contract (section 4), as a pure function: what one send attempt's classified answer means
/// for the delivery (its new state, when it is due again) and for its endpoint and application. The README's delivery
/// table and <c>OutcomeTableRowsTests</c> read the same.
/// </summary>
internal static class OutcomeTable
{
    /// <param name="delivery">The claimed delivery (its <see cref="ClaimedDelivery.Attempts"/> counts this attempt).</param>
    /// <param name="outcome">The provider's answer, classified.</param>
    /// <param name="ttlSeconds">The message's TTL (0 = now or never).</param>
    /// <param name="credentialsVersion">The application's credentials version the attempt used.</param>
    /// <param name="now">When the answer came.</param>
    /// <param name="jitter">0..1, for the backoff.</param>
    public static DeliveryResult Apply(ClaimedDelivery delivery, Guid applicationId, int credentialsVersion, DeliveryOutcome outcome, int ttlSeconds,
        DateTimeOffset now, double jitter, DeliveryOptions options)
    {
        var d = delivery;
        switch (outcome)
        {
            case DeliveryOutcome.Delivered delivered:
                return new DeliveryResult(d, DeliveryStates.Delivered, d.Attempts, now, now, now, delivered.Status, null, ProviderText.Clean(delivered.ProviderId, ProviderText.MaxId))
                {
                    ProviderUniqueId = ProviderText.Clean(delivered.UniqueId, ProviderText.MaxId),
                };
            case DeliveryOutcome.TokenDead dead:
                return new DeliveryResult(d, DeliveryStates.Failed, d.Attempts, now, now, now, dead.Status, Reason(dead.Reason), null,
                    DisableEndpoint: new EndpointDisable(d.EndpointId, d.Token!, Reason(dead.DisabledReason)!, dead.Timestamp, Unbind: dead.Uninstalled));
            case DeliveryOutcome.Rejected rejected:
                return new DeliveryResult(d, DeliveryStates.Failed, d.Attempts, now, now, now, rejected.Status, Reason(rejected.Reason), null);
            case DeliveryOutcome.CredentialsFailed credentials:
                return new DeliveryResult(d, DeliveryStates.Held, d.Attempts, d.ExpiresAt, now, null, credentials.Status, Reason(credentials.Reason), null,
                    DisableApplication: new ApplicationDisable(applicationId, credentialsVersion, Reason(credentials.DisabledReason)!));
            case DeliveryOutcome.Misconfigured { DeliveredByProbe: { } probe } misconfigured:
                // The probe through the other environment reached the device: this one is delivered; the others wait.
                return new DeliveryResult(d, DeliveryStates.Delivered, d.Attempts, now, now, now, probe.Status, null, ProviderText.Clean(probe.ProviderId, ProviderText.MaxId),
                    DisableApplication: new ApplicationDisable(applicationId, credentialsVersion, Reason(misconfigured.DisabledReason)!, misconfigured.Since))
                {
                    ProviderUniqueId = ProviderText.Clean(probe.UniqueId, ProviderText.MaxId),
                };
            case DeliveryOutcome.Misconfigured misconfigured:
                return new DeliveryResult(d, DeliveryStates.Held, d.Attempts, d.ExpiresAt, now, null, misconfigured.Status, Reason(misconfigured.Reason), null,
                    DisableApplication: new ApplicationDisable(applicationId, credentialsVersion, Reason(misconfigured.DisabledReason)!, misconfigured.Since));
            case DeliveryOutcome.Retry retry:
            {
                var reason = Reason(retry.Reason);
                if (ttlSeconds == 0)
                {
                    // "Now or never": there is no later.
                    return new DeliveryResult(d, DeliveryStates.Expired, d.Attempts, now, now, now, retry.Status, reason, null);
                }

                // Immediate retries (a fresh provider token) count against the same attempt limit as the others.
                if (d.Attempts >= options.MaxAttempts)
                {
                    return new DeliveryResult(d, DeliveryStates.Failed, d.Attempts, now, now, now, retry.Status, reason, null);
                }

                var next = now + (retry.Immediately ? TimeSpan.Zero : RetryPolicy.Delay(d.Attempts, retry.After, jitter, options.RetryBaseDelay, options.RetryMaxDelay));
                return next >= d.ExpiresAt
                    ? new DeliveryResult(d, DeliveryStates.Expired, d.Attempts, now, now, now, retry.Status, reason, null)
                    : new DeliveryResult(d, DeliveryStates.Pending, d.Attempts, next, now, null, retry.Status, reason, null);
            }

            default:
                throw new InvalidOperationException("Unknown outcome " + outcome.GetType().Name);
        }
    }

    private static string? Reason(string? text) => ProviderText.Clean(text, ProviderText.MaxReason);
}
