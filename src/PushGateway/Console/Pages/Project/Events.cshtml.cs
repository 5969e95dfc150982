using Microsoft.AspNetCore.Mvc;
using Npgsql;
using PushGateway.Applications;
using PushGateway.Data;
using PushGateway.Events;

namespace PushGateway.WebConsole.Pages;

public sealed class EventsModel : ConsolePage
{
    private PushGatewayDbContext db => Service<PushGatewayDbContext>();

    private NpgsqlDataSource dataSource => Service<NpgsqlDataSource>();

    private EventSignal signal => Service<EventSignal>();

    private TimeProvider time => Service<TimeProvider>();

    internal static readonly string[] States = [EventStates.Failed, EventStates.Pending, EventStates.Delivered, EventStates.Skipped];

    [BindProperty(SupportsGet = true)]
    public Guid? App { get; set; }

    [BindProperty(SupportsGet = true)]
    public string State { get; set; } = EventStates.Failed;

    [BindProperty(SupportsGet = true)]
    public string? Cursor { get; set; }

    internal IReadOnlyList<ApplicationResponse> Applications { get; private set; } = [];

    internal IReadOnlyList<EventResponse> Items { get; private set; } = [];

    public string? NextCursor { get; private set; }

    public Task OnGetAsync(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    public async Task OnPostRetryAsync(Guid eventId, CancellationToken cancellationToken)
    {
        if (App is { } appId)
        {
            var result = RestCall.Read<EventResponse>(await EventsEndpoints.RetryAsync(appId, eventId, Scope, dataSource, signal, time, cancellationToken));
            Errors = result.Messages;
            Notice = result.Succeeded ? $"Event {eventId} goes out again now." : null;
        }

        await LoadAsync(cancellationToken);
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Applications = RestCall.Read<ApplicationList>(await ApplicationsEndpoints.ListAsync(Scope, db, RestCall.ListLimit, null, cancellationToken)).Value?.Items ?? [];
        App ??= Applications.FirstOrDefault()?.Id;
        if (App is not { } appId)
        {
            return;
        }

        var page = RestCall.Read<EventPage>(await EventsEndpoints.ListAsync(appId, Scope, dataSource, State, null, "50", Cursor, cancellationToken));
        Errors = [.. Errors, .. page.Messages];
        Items = page.Value?.Items ?? [];
        NextCursor = page.Value?.NextCursor;
    }
}
