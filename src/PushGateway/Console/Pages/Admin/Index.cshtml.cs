using Microsoft.AspNetCore.Mvc;
using PushGateway.Data;
using PushGateway.Projects;
using PushGateway.WebConsole.Pages;

namespace PushGateway.WebConsole.Pages.Admin;

public sealed class AdminModel : ConsolePage
{
    private PushGatewayDbContext db => Service<PushGatewayDbContext>();

    private TimeProvider time => Service<TimeProvider>();

    internal IReadOnlyList<ProjectResponse> Projects { get; private set; } = [];

    public Task OnGetAsync(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostAsync(string? name, CancellationToken cancellationToken)
    {
        var result = RestCall.Read<ProjectResponse>(await ProjectsEndpoints.CreateAsync(RestCall.JsonRequest(HttpContext, new { name }), db, time, cancellationToken));
        if (result.Succeeded && result.Value is { } project)
        {
            return LocalRedirect($"/console/admin/projects/{project.Id}");
        }

        Errors = result.Messages;
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken) =>
        Projects = RestCall.Read<ProjectList>(await ProjectsEndpoints.ListAsync(db, RestCall.ListLimit, null, cancellationToken)).Value?.Items ?? [];
}
