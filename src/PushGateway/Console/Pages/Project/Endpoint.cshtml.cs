using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PushGateway.Data;
using PushGateway.Endpoints;
using Microsoft.EntityFrameworkCore;

namespace PushGateway.WebConsole.Pages;

public sealed class EndpointModel : ConsolePage
{
    private PushGatewayDbContext db => Service<PushGatewayDbContext>();

    private EndpointRegistry registry => Service<EndpointRegistry>();

    private ConsoleQueries queries => Service<ConsoleQueries>();

    [FromRoute]
    public Guid Id { get; set; }

    internal EndpointResponse? Endpoint { get; private set; }

    internal string? ApplicationName { get; private set; }

    internal IReadOnlyList<string> Topics { get; private set; } = [];

    internal IReadOnlyList<RecentDelivery> Deliveries { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        return Endpoint is null ? NotFoundPage() : Page();
    }

    public Task<IActionResult> OnPostEnableAsync(CancellationToken cancellationToken) => SetEnabledAsync(true, cancellationToken);

    public Task<IActionResult> OnPostDisableAsync(CancellationToken cancellationToken) => SetEnabledAsync(false, cancellationToken);

    private async Task<IActionResult> SetEnabledAsync(bool enabled, CancellationToken cancellationToken)
    {
        var result = RestCall.Read<EndpointResponse>(await EndpointsEndpoints.PatchAsync(
            Id, RestCall.JsonRequest(HttpContext, new { enabled }), Scope, db, registry, cancellationToken));
        Errors = result.Messages;
        Notice = result.Succeeded ? (enabled ? "Enabled." : "Disabled.") : null;
        await LoadAsync(cancellationToken);
        return Endpoint is null ? NotFoundPage() : Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Endpoint = RestCall.Read<EndpointResponse>(await EndpointsEndpoints.GetAsync(Id, Scope, Service<EndpointStore>(), cancellationToken)).Value;
        if (Endpoint is null)
        {
            return;
        }

        ApplicationName = await db.Applications.AsNoTracking().Where(a => a.Id == Endpoint.ApplicationId).Select(a => a.Name).FirstOrDefaultAsync(cancellationToken);
        Topics = await queries.TopicsAsync(Id, cancellationToken);
        Deliveries = await queries.RecentDeliveriesAsync(Id, cancellationToken);
    }

    private PageResult NotFoundPage()
    {
        Response.StatusCode = StatusCodes.Status404NotFound;
        return Page();
    }
}
