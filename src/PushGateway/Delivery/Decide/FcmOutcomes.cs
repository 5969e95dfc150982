using PushGateway.Fcm;

namespace PushGateway.Delivery;

/// <summary>Google's answer to one message, classified for the outcome table (pure).</summary>
internal static class FcmOutcomes
{
    public static DeliveryOutcome Classify(FcmResponse response)
    {
        var status = response.StatusCode == 0 ? (int?)null : response.StatusCode;
        var code = response.ErrorCodeText ?? response.ErrorStatus ?? response.TokenEndpointError ?? response.TransportError ?? $"HTTP {response.StatusCode}";
        var label = $"fcm:{response.StatusCode}:{code}";
        return response.Class switch
        {
            FcmResponseClass.Delivered => new DeliveryOutcome.Delivered(200, response.MessageName),
            FcmResponseClass.TokenInvalid => new DeliveryOutcome.TokenDead(response.StatusCode, code,
                response.ErrorCode == FcmErrorCode.InvalidArgument ? label + " (invalid registration token)" : label, null,
                Misconfiguration: response.ErrorCode switch
                {
                    FcmErrorCode.SenderIdMismatch => "the service account belongs to another Firebase project than the app's tokens: use a service account of the app's project",
                    FcmErrorCode.InvalidArgument => "the tokens are not registration tokens of this Firebase project (another project's, or not FCM tokens at all): check the service account and where the app registers",
                    _ => null,
                },
                Uninstalled: response.ErrorCode == FcmErrorCode.Unregistered),
            FcmResponseClass.RequestRejected => new DeliveryOutcome.Rejected(status, Describe(code, response.ErrorMessage)),
            FcmResponseClass.CredentialsRejected => new DeliveryOutcome.CredentialsFailed(status, Describe(code, response.ErrorMessage), label),
            _ => new DeliveryOutcome.Retry(status, response.IsTransportFailure ? "transport: " + code : code, response.RetryAfter),
        };
    }

    /// <summary>The code and Google's message; the outcome table cleans and bounds the text before it is stored.</summary>
    private static string Describe(string code, string? message) => message is null ? code : $"{code}: {message}";
}
