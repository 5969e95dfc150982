using Microsoft.AspNetCore.Mvc;
using Npgsql;
using PushGateway.Messages;

namespace PushGateway.WebConsole.Pages;

public sealed class MessageModel : ConsolePage
{
    private NpgsqlDataSource dataSource => Service<NpgsqlDataSource>();

    public const int PageSize = 50;

    [FromRoute]
    public Guid Id { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Cursor { get; set; }

    internal MessageResponse? Message { get; private set; }

    internal IReadOnlyList<DeliveryResponse> Deliveries { get; private set; } = [];

    public string? NextCursor { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Message = RestCall.Read<MessageResponse>(await MessagesEndpoints.GetAsync(Id, Scope, dataSource, cancellationToken)).Value;
        if (Message is null)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var page = RestCall.Read<DeliveryPage>(await MessagesEndpoints.ListDeliveriesAsync(
            Id, Scope, dataSource, null, PageSize.ToString(System.Globalization.CultureInfo.InvariantCulture), Cursor, cancellationToken));
        Errors = page.Messages;
        Deliveries = page.Value?.Items ?? [];
        NextCursor = page.Value?.NextCursor;
    }
}
