using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using PushGateway.Data;
using PushGateway.Hosting;

namespace PushGateway.Events;

/// <summary>One event as the API shows it (not its body: that is what the webhook received).</summary>
internal sealed record EventResponse(
    Guid Id,
    string Type,
    Guid? EndpointId,
    string State,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt,
    DateTimeOffset? NextAttemptAt,
    string? LastError);

internal sealed record EventPage(IReadOnlyList<EventResponse> Items, string? NextCursor);

/// <summary>Webhook visibility: an application's events with their delivery state, and manual retry (project key).</summary>
internal static class EventsEndpoints
{
    private static readonly string[] States = [EventStates.Pending, EventStates.Delivered, EventStates.Failed, EventStates.Skipped];

    private const string Columns = "e.sequence, e.id, e.type, e.endpoint_id, e.state, e.attempts, e.created_at, e.completed_at, e.next_attempt_at, e.last_error";

    public static void MapEvents(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/applications/{appId:guid}/events").WithTags("Events").RequireProjectKey();
        group.MapGet("/", ListAsync)
            .WithName("listEvents")
            .Produces<EventPage>()
            .ProblemResponse(StatusCodes.Status400BadRequest, "`state`, `type`, `limit` or `cursor` is not valid (`validation`; `errors` names it).")
            .ProblemResponse(StatusCodes.Status404NotFound, "The application does not exist in this project.")
            .WithSummary("The application's webhook events, oldest first, with their delivery state (filters: state, type; keyset pagination).");
        group.MapGet("/{eventId:guid}", GetAsync)
            .WithName("getEvent")
            .Produces<EventResponse>()
            .ProblemResponse(StatusCodes.Status404NotFound, "The application or the event does not exist in this project.")
            .WithSummary("One webhook event's delivery state.");
        group.MapPost("/{eventId:guid}/retry", RetryAsync)
            .WithName("retryEvent")
            .Produces<EventResponse>(StatusCodes.Status202Accepted)
            .ProblemResponse(StatusCodes.Status404NotFound, "The application or the event does not exist in this project.")
            .ProblemResponse(StatusCodes.Status409Conflict, "`conflict`: the event is pending, delivered or skipped; only failed events can be retried.")
            .WithSummary("Send a failed event again: it goes back to pending and is attempted once more at once (ahead of later events of its endpoint).");
    }

    internal static async Task<IResult> ListAsync(
        Guid appId, ProjectScope scope, NpgsqlDataSource dataSource, string? state, string? type, string? limit, string? cursor, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = 100;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out take) || take is < 1 or > 1000))
        {
            v.Add("limit", "Must be an integer from 1 to 1000.");
        }

        long after = 0;
        if (cursor is not null && !Cursor.TryDecode(cursor, out after))
        {
            v.Add("cursor", "Not a cursor this API returned.");
        }

        if (state is not null && !States.Contains(state))
        {
            v.Add("state", "One of " + string.Join(", ", States) + ".");
        }

        if (type is not null && !EventTypes.All.Contains(type))
        {
            v.Add("type", "One of " + string.Join(", ", EventTypes.All) + ".");
        }

        if (!v.IsValid)
        {
            return v.ToProblem();
        }

        if (!await ApplicationExistsAsync(dataSource, appId, scope.ProjectId, cancellationToken))
        {
            return ApplicationNotFound(appId);
        }

        await using var command = dataSource.CreateCommand($"""
            SELECT {Columns}
            FROM events e
            WHERE e.application_id = @app AND e.sequence > @after
              AND (@state::text IS NULL OR e.state = @state) AND (@type::text IS NULL OR e.type = @type)
            ORDER BY e.sequence LIMIT @take
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid>("app", appId));
        command.Parameters.Add(new NpgsqlParameter<long>("after", after));
        command.Parameters.Add(new NpgsqlParameter("state", NpgsqlDbType.Text) { Value = (object?)state ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("type", NpgsqlDbType.Text) { Value = (object?)type ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter<int>("take", take + 1));
        var items = new List<EventResponse>();
        long last = 0;
        var more = false;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (items.Count == take)
            {
                more = true;
                break;
            }

            last = reader.GetInt64(0);
            items.Add(Read(reader));
        }

        return TypedResults.Ok(new EventPage(items, more ? Cursor.Encode(last) : null));
    }

    private static async Task<IResult> GetAsync(Guid appId, Guid eventId, ProjectScope scope, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        if (!await ApplicationExistsAsync(dataSource, appId, scope.ProjectId, cancellationToken))
        {
            return ApplicationNotFound(appId);
        }

        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM events e WHERE e.id = @id AND e.application_id = @app");
        command.Parameters.Add(new NpgsqlParameter<Guid>("id", eventId));
        command.Parameters.Add(new NpgsqlParameter<Guid>("app", appId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? TypedResults.Ok(Read(reader)) : EventNotFound(eventId);
    }

    internal static async Task<IResult> RetryAsync(
        Guid appId, Guid eventId, ProjectScope scope, NpgsqlDataSource dataSource, EventSignal signal, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!await ApplicationExistsAsync(dataSource, appId, scope.ProjectId, cancellationToken))
        {
            return ApplicationNotFound(appId);
        }

        // Only a failed event: a pending one is already on its way, and a delivered one was received (at least once).
        await using (var retry = dataSource.CreateCommand($"""
            UPDATE events e SET state = 'pending', next_attempt_at = @now, completed_at = NULL
            WHERE e.id = @id AND e.application_id = @app AND e.state = 'failed'
            RETURNING {Columns}
            """))
        {
            retry.Parameters.Add(new NpgsqlParameter<Guid>("id", eventId));
            retry.Parameters.Add(new NpgsqlParameter<Guid>("app", appId));
            retry.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", time.UtcNow()));
            await using var reader = await retry.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                var item = Read(reader);
                signal.Notify();
                return TypedResults.Accepted($"/v1/applications/{appId}/events/{eventId}", item);
            }
        }

        await using var current = dataSource.CreateCommand("SELECT state FROM events WHERE id = @id AND application_id = @app");
        current.Parameters.Add(new NpgsqlParameter<Guid>("id", eventId));
        current.Parameters.Add(new NpgsqlParameter<Guid>("app", appId));
        return await current.ExecuteScalarAsync(cancellationToken) is string state
            ? Problems.Conflict($"Event {eventId} is {state}; only failed events can be retried.")
            : EventNotFound(eventId);
    }

    private static EventResponse Read(NpgsqlDataReader reader)
    {
        var state = reader.GetString(4);
        return new EventResponse(
            reader.GetGuid(1),
            reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetGuid(3),
            state,
            reader.GetInt32(5),
            reader.GetFieldValue<DateTimeOffset>(6),
            reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7),
            // Only a pending event has a next attempt. For one waiting behind an earlier event of its endpoint it is
            // the latest time it is looked at again; it goes as soon as that earlier event is done.
            state == EventStates.Pending ? reader.GetFieldValue<DateTimeOffset>(8) : null,
            reader.IsDBNull(9) ? null : reader.GetString(9));
    }

    private static async Task<bool> ApplicationExistsAsync(NpgsqlDataSource dataSource, Guid appId, Guid projectId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT 1 FROM applications WHERE id = @id AND project_id = @p");
        command.Parameters.Add(new NpgsqlParameter<Guid>("id", appId));
        command.Parameters.Add(new NpgsqlParameter<Guid>("p", projectId));
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    private static IResult ApplicationNotFound(Guid appId) => Problems.NotFound($"Application {appId} does not exist.");

    private static IResult EventNotFound(Guid eventId) => Problems.NotFound($"Event {eventId} does not exist in this application.");
}

internal static class EventsServices
{
    /// <summary>Options, the API's signal, and (unless <c>Events:Enabled</c> is false) the dispatcher and retention.</summary>
    public static IServiceCollection AddEvents(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<EventsOptions>()
            .BindConfiguration(EventsOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(EventsOptions.IsValid, "Events: every duration must be positive, RetryMaxDelay >= RetryBaseDelay, and LeaseDuration at least twice RequestTimeout.")
            .ValidateOnStart();
        services.AddSingleton<EventSignal>();
        if (configuration.GetValue($"{EventsOptions.SectionName}:Enabled", true))
        {
            services.AddSingleton<EventStore>();
            services.AddSingleton<WebhookSecrets>();
            services.AddSingleton<WebhookSender>();
            services.AddSingleton<WebhookMetrics>();
            WebhookSender.Configure(services);
            services.AddHostedService<WebhookDispatcher>();
            services.AddHostedService<EventRetention>();
        }

        return services;
    }
}
