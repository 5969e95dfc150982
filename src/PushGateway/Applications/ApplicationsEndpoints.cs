using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using PushGateway.Data;
using PushGateway.Hosting;

namespace PushGateway.Applications;

internal sealed record EventsRequest(string Url, string? Secret = null, string[]? Types = null);

internal sealed record CreateApplicationRequest(
    string Name,
    string Platform,
    CredentialsRequest Credentials,
    string? Environment = null,
    EventsRequest? Events = null);

internal sealed class PatchApplicationRequest
{
    public Optional<string> Name { get; init; }
    public Optional<string> Environment { get; init; }
    public Optional<CredentialsRequest> Credentials { get; init; }
    public Optional<EventsRequest> Events { get; init; }
    public Optional<bool?> Enabled { get; init; }
}

internal sealed record EventsResponse(string Url, IReadOnlyList<string> Types);

internal sealed record ApplicationResponse(
    Guid Id,
    Guid ProjectId,
    string Name,
    string Platform,
    string? Environment,
    JsonElement Credentials,
    EventsResponse? Events,
    bool Enabled,
    string? DisabledReason,
    DateTimeOffset? DisabledAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static ApplicationResponse From(Application a) => new(
        a.Id, a.ProjectId, a.Name, a.Platform, a.Environment,
        JsonDocument.Parse(a.CredentialsInfo).RootElement.Clone(),
        a.EventsUrl is null ? null : new EventsResponse(a.EventsUrl, a.EventsTypes),
        a.Enabled, a.DisabledReason, a.DisabledAt, a.CreatedAt, a.UpdatedAt);
}

internal sealed record ApplicationList(IReadOnlyList<ApplicationResponse> Items, string? NextCursor);

/// <summary>Applications: one app on one platform with its credentials (project key).</summary>
internal static class ApplicationsEndpoints
{
    public static void MapApplications(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/applications").WithTags("Applications").RequireProjectKey();
        group.MapPost("/", CreateAsync)
            .WithName("createApplication")
            .Accepts<CreateApplicationRequest>("application/json")
            .Produces<ApplicationResponse>(StatusCodes.Status201Created)
            .WithSummary("Create an application with APNs token/certificate or FCM service-account credentials.");
        group.MapGet("/", ListAsync)
            .WithName("listApplications")
            .Produces<ApplicationList>()
            .ProblemResponse(StatusCodes.Status400BadRequest, "`limit` or `cursor` is not valid (`validation`; `errors` names it).")
            .WithSummary("List the project's applications (keyset pagination: limit 1..1000, default 100; pass nextCursor as cursor).");
        group.MapGet("/{appId:guid}", GetAsync)
            .WithName("getApplication")
            .Produces<ApplicationResponse>()
            .ProblemResponse(StatusCodes.Status404NotFound, "The application does not exist in this project.")
            .WithSummary("Get an application (never its secrets).");
        group.MapPatch("/{appId:guid}", PatchAsync)
            .WithName("updateApplication")
            .Accepts<PatchApplicationRequest>("application/json")
            .Produces<ApplicationResponse>()
            .ProblemResponse(StatusCodes.Status404NotFound, "The application does not exist in this project.")
            .WithSummary("Rename, rotate credentials (re-enables a disabled application), change events, enable or disable.");
        group.MapDelete("/{appId:guid}", DeleteAsync)
            .WithName("deleteApplication")
            .Produces(StatusCodes.Status204NoContent)
            .ProblemResponse(StatusCodes.Status404NotFound, "The application does not exist in this project.")
            .WithSummary("Delete an application and its endpoints.");
    }

    internal static string SecretContext(Guid applicationId) => $"application:{applicationId}:credentials";

    internal static string EventsSecretContext(Guid applicationId) => $"application:{applicationId}:events";

    private static async Task<IResult> CreateAsync(
        HttpRequest request, ProjectScope scope, PushGatewayDbContext db, SecretBox secrets, TimeProvider time,
        Microsoft.Extensions.Options.IOptions<Events.EventsOptions> eventsOptions, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<CreateApplicationRequest>(request, cancellationToken);
        if (body.Error is not null)
        {
            return body.Error;
        }

        var r = body.Value!;
        var v = new Validation();
        v.Text("name", r.Name, 200);
        if (r.Platform is not (Platforms.Apns or Platforms.Fcm))
        {
            v.Add("platform", "Must be \"apns\" or \"fcm\".");
            return v.ToProblem();
        }

        CheckEnvironment(r.Platform, r.Environment, required: true, v);
        var credentials = Credentials.Validate(r.Platform, r.Credentials, time, v);
        var events = r.Events is null ? null : ValidateEvents(r.Events, eventsOptions.Value.AllowPrivateNetworks, v);
        if (!v.IsValid || credentials is null)
        {
            return v.ToProblem();
        }

        var application = NewApplication(scope.ProjectId, r.Name, r.Platform, r.Environment, credentials, secrets, time.UtcNow());
        ApplyEvents(application, events, secrets);
        db.Applications.Add(application);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/v1/applications/{application.Id}", ApplicationResponse.From(application));
    }

    /// <summary>A new application from validated input (shared with the SNS facade's CreatePlatformApplication).</summary>
    internal static Application NewApplication(
        Guid projectId, string name, string platform, string? environment, ValidatedCredentials credentials, SecretBox secrets, DateTimeOffset now)
    {
        var application = new Application
        {
            Id = Guid.CreateVersion7(),
            ProjectId = projectId,
            Name = name.Trim(),
            Platform = platform,
            Environment = platform == Platforms.Apns ? environment : null,
            CredentialsType = credentials.Type,
            CredentialsInfo = credentials.Info.ToJsonString(),
            CredentialsCiphertext = [],
            CreatedAt = now,
            UpdatedAt = now,
        };
        application.CredentialsCiphertext = secrets.SealString(credentials.Secret.ToJsonString(), SecretContext(application.Id));
        return application;
    }

    internal static async Task<IResult> ListAsync(
        ProjectScope scope, PushGatewayDbContext db, string? limit, string? cursor, CancellationToken cancellationToken)
    {
        var v = new Validation();
        if (!Cursor.TryReadPage(limit, cursor, v, out var take, out var after))
        {
            return v.ToProblem();
        }

        var query = db.Applications.AsNoTracking().Where(a => a.ProjectId == scope.ProjectId);
        if (after is { } last)
        {
            query = query.Where(a => a.Id > last);
        }

        var rows = await query.OrderBy(a => a.Id).Take(take + 1).ToListAsync(cancellationToken);
        var (items, next) = Cursor.Split(rows, take, a => Cursor.Encode(a.Id));
        return TypedResults.Ok(new ApplicationList(items.Select(ApplicationResponse.From).ToList(), next));
    }

    private static async Task<IResult> GetAsync(Guid appId, ProjectScope scope, PushGatewayDbContext db, CancellationToken cancellationToken)
    {
        var app = await db.Applications.AsNoTracking().FirstOrDefaultAsync(a => a.Id == appId && a.ProjectId == scope.ProjectId, cancellationToken);
        return app is null ? NotFound(appId) : TypedResults.Ok(ApplicationResponse.From(app));
    }

    private static async Task<IResult> PatchAsync(
        Guid appId, HttpRequest request, ProjectScope scope, PushGatewayDbContext db, SecretBox secrets, TimeProvider time,
        Messages.DeliverySignal deliverySignal, Microsoft.Extensions.Options.IOptions<Events.EventsOptions> eventsOptions, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<PatchApplicationRequest>(request, cancellationToken);
        if (body.Error is not null)
        {
            return body.Error;
        }

        var app = await db.Applications.FirstOrDefaultAsync(a => a.Id == appId && a.ProjectId == scope.ProjectId, cancellationToken);
        if (app is null)
        {
            return NotFound(appId);
        }

        var r = body.Value!;
        var v = new Validation();
        if (r.Name.IsSet)
        {
            v.Text("name", r.Name.Value, 200);
        }

        if (r.Environment.IsSet)
        {
            CheckEnvironment(app.Platform, r.Environment.Value, required: app.Platform == Platforms.Apns, v);
        }

        ValidatedCredentials? credentials = null;
        if (r.Credentials.IsSet)
        {
            if (r.Credentials.Value is null)
            {
                v.Add("credentials", "Credentials cannot be removed; send new ones to rotate them.");
            }
            else
            {
                credentials = Credentials.Validate(app.Platform, r.Credentials.Value, time, v);
            }
        }

        var events = r.Events is { IsSet: true, Value: { } e } ? ValidateEvents(e, eventsOptions.Value.AllowPrivateNetworks, v) : null;
        if (r.Enabled is { IsSet: true, Value: null })
        {
            v.Add("enabled", "Must be true or false.");
        }

        if (!v.IsValid)
        {
            return v.ToProblem();
        }

        var now = time.UtcNow();
        if (r.Name.IsSet)
        {
            app.Name = r.Name.Value!.Trim();
        }

        if (r.Environment.IsSet && app.Environment != r.Environment.Value)
        {
            app.Environment = r.Environment.Value;
            app.CredentialsVersion++;
            // The fix for sandbox tokens sent to production (or the reverse): the application sends again.
            Enable(app);
        }

        if (credentials is not null)
        {
            ApplyCredentials(app, credentials, secrets);
        }

        if (r.Events.IsSet)
        {
            ApplyEvents(app, events, secrets);
        }

        if (r.Enabled is { IsSet: true, Value: { } enabled })
        {
            SetEnabled(app, enabled, now);
        }

        await SaveChangesAsync(db, app, now, deliverySignal, cancellationToken);
        return TypedResults.Ok(ApplicationResponse.From(app));
    }

    /// <summary>Rotates the credentials. New credentials are the fix for a credential failure: the application sends again.</summary>
    internal static void ApplyCredentials(Application app, ValidatedCredentials credentials, SecretBox secrets)
    {
        app.CredentialsType = credentials.Type;
        app.CredentialsInfo = credentials.Info.ToJsonString();
        app.CredentialsCiphertext = secrets.SealString(credentials.Secret.ToJsonString(), SecretContext(app.Id));
        app.CredentialsVersion++;
        Enable(app);
    }

    internal static void SetEnabled(Application app, bool enabled, DateTimeOffset now)
    {
        if (enabled)
        {
            Enable(app);
        }
        else if (app.Enabled)
        {
            app.Enabled = false;
            app.DisabledAt = now;
            app.DisabledReason = "manual";
        }
    }

    /// <summary>Saves a tracked, changed application; an enabled one gets its held deliveries released at once.</summary>
    internal static async Task SaveChangesAsync(
        PushGatewayDbContext db, Application app, DateTimeOffset now, Messages.DeliverySignal deliverySignal, CancellationToken cancellationToken)
    {
        app.UpdatedAt = now;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            await db.SaveChangesAsync(cancellationToken);
            if (app.Enabled)
            {
                // Deliveries held by a credential failure go out again now (the sweeper would also release them).
                await db.Database.ExecuteSqlAsync(
                    $"UPDATE deliveries SET state = 'pending', next_attempt_at = {now} WHERE application_id = {app.Id} AND state = 'held' AND expires_at > {now}",
                    cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        deliverySignal.Notify();
    }

    private static async Task<IResult> DeleteAsync(Guid appId, ProjectScope scope, PushGatewayDbContext db, CancellationToken cancellationToken)
    {
        // Endpoints, their subscriptions and pending events go with it (foreign keys cascade).
        var deleted = await db.Applications.Where(a => a.Id == appId && a.ProjectId == scope.ProjectId).ExecuteDeleteAsync(cancellationToken);
        return deleted == 0 ? NotFound(appId) : TypedResults.NoContent();
    }

    private static void Enable(Application app)
    {
        app.Enabled = true;
        app.DisabledAt = null;
        app.DisabledReason = null;
    }

    private static IResult NotFound(Guid appId) => Problems.NotFound($"Application {appId} does not exist.");

    private static void CheckEnvironment(string platform, string? environment, bool required, Validation v)
    {
        if (platform == Platforms.Apns)
        {
            if (environment is not (ApnsEnvironments.Production or ApnsEnvironments.Sandbox) && (required || environment is not null))
            {
                v.Add("environment", "APNs applications need \"production\" or \"sandbox\" (development builds use sandbox tokens).");
            }
        }
        else if (environment is not null)
        {
            v.Add("environment", "Only APNs applications have an environment.");
        }
    }

    private sealed record ValidatedEvents(string Url, string? Secret, string[] Types);

    private static ValidatedEvents? ValidateEvents(EventsRequest events, bool allowPrivateNetworks, Validation v)
    {
        if (!Uri.TryCreate(events.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || events.Url.Length > 2048)
        {
            v.Add("events.url", "Must be an absolute http(s) URL of at most 2048 characters.");
        }
        else if (Events.WebhookAddressPolicy.CheckUrl(url, allowPrivateNetworks) is { } refused)
        {
            // Refused early where the URL shows it; the connect step checks the resolved address on every attempt.
            v.Add("events.url", refused);
        }

        if (events.Secret is null || events.Secret.Length < 16 || events.Secret.Length > 256)
        {
            v.Add("events.secret", "Required: 16 to 256 characters, used to sign every webhook (PushGateway-Signature).");
        }

        var types = events.Types ?? EventTypes.All;
        if (types.Length == 0 || types.Any(t => !EventTypes.All.Contains(t)) || types.Distinct().Count() != types.Length)
        {
            v.Add("events.types", "A non-empty list of distinct event types: " + string.Join(", ", EventTypes.All) + ".");
        }

        return v.IsValid ? new ValidatedEvents(events.Url, events.Secret, types) : null;
    }

    private static void ApplyEvents(Application app, ValidatedEvents? events, SecretBox secrets)
    {
        app.EventsUrl = events?.Url;
        app.EventsTypes = events?.Types ?? [];
        app.EventsSecretCiphertext = events?.Secret is { } secret ? secrets.SealString(secret, EventsSecretContext(app.Id)) : null;
    }
}
