using Microsoft.AspNetCore.Mvc;
using PushGateway.Endpoints;

namespace PushGateway.WebConsole.Pages;

public sealed class EndpointDeleteModel : ConsolePage
{
    private EndpointRegistry registry => Service<EndpointRegistry>();

    [FromRoute]
    public Guid Id { get; set; }

    public bool Deleted { get; private set; }

    public void OnGet()
    {
    }

    public async Task OnPostAsync(CancellationToken cancellationToken)
    {
        var result = RestCall.Read<object>(await EndpointsEndpoints.DeleteAsync(Id, Scope, registry, cancellationToken));
        Errors = result.Messages;
        Deleted = result.Succeeded;
    }
}
