using PushGateway.Data;

namespace PushGateway.Endpoints;

/// <summary>An endpoint as the API shows it (SNS GetEndpointAttributes, plus the user binding and timestamps).</summary>
internal sealed record EndpointResponse(
    Guid Id,
    Guid ApplicationId,
    string Token,
    bool Enabled,
    string? UserId,
    string? CustomUserData,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset TokenUpdatedAt,
    DateTimeOffset? DisabledAt,
    string? DisabledReason)
{
    public static EndpointResponse From(PlatformEndpoint e) => new(
        e.Id, e.ApplicationId, e.Token, e.Enabled, e.UserId, e.CustomUserData,
        e.CreatedAt, e.UpdatedAt, e.TokenUpdatedAt, e.DisabledAt, e.DisabledReason);
}

internal sealed record EndpointPage(IReadOnlyList<EndpointResponse> Items, string? NextCursor);

internal sealed record EndpointList(IReadOnlyList<EndpointResponse> Items, string? NextCursor);
