namespace PushGateway.Simulator;

/// <summary>Apple's reason strings (protocols.md 1.5), plus the simulator's own <see cref="BadPayload"/>.</summary>
public static class ApnsReasons
{
    public const string BadCollapseId = nameof(BadCollapseId);
    public const string BadDeviceToken = nameof(BadDeviceToken);
    public const string BadExpirationDate = nameof(BadExpirationDate);
    public const string BadMessageId = nameof(BadMessageId);
    public const string BadPriority = nameof(BadPriority);
    public const string BadTopic = nameof(BadTopic);
    public const string DeviceTokenNotForTopic = nameof(DeviceTokenNotForTopic);
    public const string DuplicateHeaders = nameof(DuplicateHeaders);
    public const string IdleTimeout = nameof(IdleTimeout);
    public const string InvalidPushType = nameof(InvalidPushType);
    public const string MissingDeviceToken = nameof(MissingDeviceToken);
    public const string MissingTopic = nameof(MissingTopic);
    public const string PayloadEmpty = nameof(PayloadEmpty);
    public const string TopicDisallowed = nameof(TopicDisallowed);
    public const string BadCertificate = nameof(BadCertificate);
    public const string BadCertificateEnvironment = nameof(BadCertificateEnvironment);
    public const string ExpiredProviderToken = nameof(ExpiredProviderToken);
    public const string Forbidden = nameof(Forbidden);
    public const string InvalidProviderToken = nameof(InvalidProviderToken);
    public const string MissingProviderToken = nameof(MissingProviderToken);
    public const string UnrelatedKeyIdInToken = nameof(UnrelatedKeyIdInToken);
    public const string BadEnvironmentKeyIdInToken = nameof(BadEnvironmentKeyIdInToken);
    public const string BadEnvironmentKeyInToken = nameof(BadEnvironmentKeyInToken);
    public const string BadPath = nameof(BadPath);
    public const string MethodNotAllowed = nameof(MethodNotAllowed);
    public const string ExpiredToken = nameof(ExpiredToken);
    public const string Unregistered = nameof(Unregistered);
    public const string PayloadTooLarge = nameof(PayloadTooLarge);
    public const string TooManyProviderTokenUpdates = nameof(TooManyProviderTokenUpdates);
    public const string TooManyRequests = nameof(TooManyRequests);
    public const string InternalServerError = nameof(InternalServerError);
    public const string ServiceUnavailable = nameof(ServiceUnavailable);
    public const string Shutdown = nameof(Shutdown);

    /// <summary>Body is not a JSON object. Not an Apple string: Apple documents no reason for this.</summary>
    public const string BadPayload = nameof(BadPayload);
}
