using PushGateway.Apns;
using PushGateway.Data;

namespace PushGateway.Delivery;

/// <summary>Apple's answer to one notification, classified for the outcome table (pure).</summary>
internal static class ApnsOutcomes
{
    /// <param name="response">The client's answer (an APNs answer, a local rejection or a transport failure).</param>
    /// <param name="environment">The application's environment, named when a token is refused as bad.</param>
    public static DeliveryOutcome Classify(ApnsResponse response, string environment)
    {
        var status = response.StatusCode == 0 ? (int?)null : response.StatusCode;
        var reason = response.ReasonText ?? response.TransportError ?? $"HTTP {response.StatusCode}";
        var label = $"apns:{response.StatusCode}:{reason}";
        return response.Class switch
        {
            ApnsResponseClass.Accepted => new DeliveryOutcome.Delivered(200, response.ApnsId?.ToString(), response.ApnsUniqueId),
            ApnsResponseClass.TokenUnregistered => new DeliveryOutcome.TokenDead(response.StatusCode, reason, label, response.Timestamp, Uninstalled: true),
            // A token of the other environment looks exactly like a malformed one: say which environment refused it.
            ApnsResponseClass.TokenInvalid => new DeliveryOutcome.TokenDead(response.StatusCode, reason, $"{label} (refused by the {environment} environment)", null,
                Misconfiguration: WrongEnvironment(environment)),
            ApnsResponseClass.TokenNotForTopic => new DeliveryOutcome.TokenDead(response.StatusCode, reason, label, null,
                Misconfiguration: "the tokens belong to another app than the bundle id (APNs topic) configured: set the app's bundle id in the credentials"),
            ApnsResponseClass.RequestRejected => new DeliveryOutcome.Rejected(status, response.IsLocalRejection ? "local: " + reason : reason),
            ApnsResponseClass.ProviderTokenExpired => new DeliveryOutcome.Retry(status, reason, null, Immediately: true),
            ApnsResponseClass.CredentialsRejected => new DeliveryOutcome.CredentialsFailed(status, reason, label),
            _ => new DeliveryOutcome.Retry(status, response.IsTransportFailure ? "transport: " + reason : reason, response.RetryAfter),
        };
    }

    /// <summary>What BadDeviceToken en masse most likely means, in an operator's words.</summary>
    public static string WrongEnvironment(string environment) => environment == ApnsEnvironments.Sandbox
        ? "probably production tokens (App Store or TestFlight builds) sent to the sandbox environment: set environment to production"
        : "probably sandbox tokens (development builds) sent to the production environment: set environment to sandbox";
}
