using Microsoft.AspNetCore.Mvc;
using PushGateway.Data;
using PushGateway.Hosting;
using PushGateway.Projects;
using PushGateway.WebConsole.Pages;

namespace PushGateway.WebConsole.Pages.Admin;

public sealed class AdminProjectModel : ConsolePage
{
    private PushGatewayDbContext db => Service<PushGatewayDbContext>();

    private TimeProvider time => Service<TimeProvider>();

    [FromRoute]
    public Guid Id { get; set; }

    internal ProjectResponse? Project { get; private set; }

    internal IReadOnlyList<ApiKeyResponse> Keys { get; private set; } = [];

    /// <summary>Only in the answer to the create request itself: never stored, never shown again.</summary>
    internal ApiKeyCreatedResponse? CreatedKey { get; private set; }

    public Task OnGetAsync(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    public async Task OnPostCreateAsync(string? name, CancellationToken cancellationToken)
    {
        var result = RestCall.Read<ApiKeyCreatedResponse>(await ProjectsEndpoints.CreateKeyAsync(Id, RestCall.JsonRequest(HttpContext, new { name }), db, time, cancellationToken));
        Errors = result.Messages;
        CreatedKey = result.Value;
        await LoadAsync(cancellationToken);
    }

    public async Task OnPostRevokeAsync(Guid keyId, CancellationToken cancellationToken)
    {
        var result = RestCall.Read<object>(await ProjectsEndpoints.RevokeKeyAsync(Id, keyId, db, Service<ApiKeyCache>(), time, cancellationToken));
        Errors = result.Messages;
        Notice = result.Succeeded ? "Revoked: its sessions and requests stop now." : null;
        await LoadAsync(cancellationToken);
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Project = RestCall.Read<ProjectResponse>(await ProjectsEndpoints.GetAsync(Id, db, cancellationToken)).Value;
        Keys = Project is null ? [] : RestCall.Read<ApiKeyList>(await ProjectsEndpoints.ListKeysAsync(Id, db, RestCall.ListLimit, null, cancellationToken)).Value?.Items ?? [];
    }
}
