namespace PushGateway.Delivery;

/// <summary>Delivery log messages (event ids 2xxx). Device tokens appear only as short hashes, never in full.</summary>
internal static partial class DeliveryLog
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Delivery workers started (batch {BatchSize}, in flight {MaxInFlight})")]
    public static partial void WorkersStarted(this ILogger logger, int batchSize, int maxInFlight);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Delivery loop iteration failed; retrying")]
    public static partial void IterationFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Recording {Count} delivery results failed while their leases lasted; those deliveries are due again when the leases run out")]
    public static partial void ResultWriteFailed(this ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "The database refused a group of {Count} delivery results ({Error}); recording them one by one")]
    public static partial void ResultGroupRefused(this ILogger logger, int count, string error);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Error, Message = "The result of delivery {DeliveryId} (application {ApplicationId}, state {State}) could not be recorded ({Error}); parked until {DueAt:o}")]
    public static partial void ResultParked(this ILogger logger, long deliveryId, Guid applicationId, string state, string error, DateTimeOffset dueAt);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Endpoint {EndpointId} (token {TokenHash}) disabled: {Reason}")]
    public static partial void EndpointDisabled(this ILogger logger, Guid endpointId, string tokenHash, string reason);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Information, Message = "Endpoint {EndpointId} (token {TokenHash}) kept despite {Reason}: the token was registered again after the provider saw it die")]
    public static partial void EndpointKept(this ILogger logger, Guid endpointId, string tokenHash, string reason);

    [LoggerMessage(EventId = 2020, Level = LogLevel.Warning, Message = "Application {ApplicationId} disabled after a credential failure: {Reason}; its deliveries are held until it is fixed")]
    public static partial void ApplicationDisabled(this ILogger logger, Guid applicationId, string reason);

    [LoggerMessage(EventId = 2022, Level = LogLevel.Warning,
        Message = "Application {ApplicationId}: dead-token answers en masse look like a misconfiguration; the application is disabled instead of its endpoints ({Restored} endpoint(s) restored in this write)")]
    public static partial void MisconfigurationGuardTripped(this ILogger logger, Guid applicationId, int restored);

    [LoggerMessage(EventId = 2023, Level = LogLevel.Information, Message = "Disabled {Count} {Platform} endpoint(s) whose token went stale (not confirmed by the app within the StaleTokens limit)")]
    public static partial void StaleEndpointsDisabled(this ILogger logger, int count, string platform);

    [LoggerMessage(EventId = 2021, Level = LogLevel.Warning, Message = "Stored credentials of application {ApplicationId} cannot be used ({Error})")]
    public static partial void CredentialsUnusable(this ILogger logger, Guid applicationId, string error);

    [LoggerMessage(EventId = 2030, Level = LogLevel.Debug, Message = "Sweep: released {Released} held deliveries, expired {Expired}")]
    public static partial void Swept(this ILogger logger, int released, int expired);

    [LoggerMessage(EventId = 2040, Level = LogLevel.Debug, Message = "Queue statistics unavailable: {Reason}")]
    public static partial void StatsUnavailable(this ILogger logger, string reason);

    /// <summary>A short, stable, non-reversible name for a device token, for logs.</summary>
    public static string TokenHash(string token) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)))[..12];
}
