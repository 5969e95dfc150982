using Microsoft.AspNetCore.Mvc;

namespace PushGateway.WebConsole.Pages;

public sealed class EndpointsModel : ConsolePage
{
    private ConsoleQueries queries => Service<ConsoleQueries>();

    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    internal IReadOnlyList<EndpointHit> Hits { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        if (Q is { Length: > 0 and <= 4096 } query)
        {
            Hits = await queries.SearchEndpointsAsync(Scope.ProjectId, query, cancellationToken);
        }
    }
}
