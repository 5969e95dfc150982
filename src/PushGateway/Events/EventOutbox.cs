using System.Text.Json;
using System.Text.Json.Serialization;
using PushGateway.Data;
using PushGateway.Endpoints;

namespace PushGateway.Events;

internal sealed record DeliveryFailureInfo(string Reason, int? ProviderStatus, Guid? MessageId);

/// <summary>The webhook body of an event (contract section 5).</summary>
internal sealed record EventBody(
    Guid Id,
    string Type,
    DateTimeOffset Time,
    Guid ProjectId,
    Guid ApplicationId,
    Guid? EndpointId,
    EndpointResponse? Endpoint,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DeliveryFailureInfo? Failure);

/// <summary>The application as an application event shows it (no credentials).</summary>
internal sealed record ApplicationSnapshot(Guid Id, string Name, string Platform, string? Environment, bool Enabled, DateTimeOffset? DisabledAt, string? DisabledReason);

/// <summary>The webhook body of an application event: no endpoint, the application instead.</summary>
internal sealed record ApplicationEventBody(Guid Id, string Type, DateTimeOffset Time, Guid ProjectId, Guid ApplicationId, ApplicationSnapshot Application);

/// <summary>
/// Writes outbox rows into the caller's unit of work, so an event exists exactly when the change that raised it
/// was committed.
/// </summary>
internal static class EventOutbox
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static OutboxEvent Create(string type, PlatformEndpoint endpoint, Guid projectId, DateTimeOffset now, DeliveryFailureInfo? failure = null)
    {
        var id = Guid.CreateVersion7();
        var body = new EventBody(id, type, now, projectId, endpoint.ApplicationId, endpoint.Id, EndpointResponse.From(endpoint), failure);
        return new OutboxEvent
        {
            Id = id,
            ProjectId = projectId,
            ApplicationId = endpoint.ApplicationId,
            EndpointId = endpoint.Id,
            Type = type,
            Payload = JsonSerializer.Serialize(body, Json),
            CreatedAt = now,
            NextAttemptAt = now,
        };
    }

    public static OutboxEvent CreateForApplication(string type, ApplicationSnapshot application, Guid projectId, DateTimeOffset now)
    {
        var id = Guid.CreateVersion7();
        var body = new ApplicationEventBody(id, type, now, projectId, application.Id, application);
        return new OutboxEvent
        {
            Id = id,
            ProjectId = projectId,
            ApplicationId = application.Id,
            EndpointId = null,
            Type = type,
            Payload = JsonSerializer.Serialize(body, Json),
            CreatedAt = now,
            NextAttemptAt = now,
        };
    }

    public static void Add(PushGatewayDbContext db, string type, PlatformEndpoint endpoint, DateTimeOffset now, DeliveryFailureInfo? failure = null) =>
        db.Events.Add(Create(type, endpoint, endpoint.ProjectId, now, failure));
}
