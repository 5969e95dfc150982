using Microsoft.EntityFrameworkCore;
using PushGateway.Data;
using PushGateway.Hosting;

namespace PushGateway.Endpoints;

internal sealed class CreateEndpointRequest
{
    public required string Token { get; init; }
    public Optional<string> CustomUserData { get; init; }
    public Optional<bool?> Enabled { get; init; }
    public Optional<string> UserId { get; init; }
}

internal sealed class RegistrationRequest
{
    public required string Token { get; init; }
    public Optional<Guid?> EndpointId { get; init; }
    public Optional<string> UserId { get; init; }
    public Optional<string> CustomUserData { get; init; }
}

internal sealed record RegistrationResponse(string Outcome, EndpointResponse Endpoint);

internal sealed class PatchEndpointRequest
{
    public Optional<string> Token { get; init; }
    public Optional<bool?> Enabled { get; init; }
    public Optional<string> CustomUserData { get; init; }
    public Optional<string> UserId { get; init; }
}

/// <summary>Endpoints (SNS platform endpoints) and the registration flow (project key).</summary>
internal static class EndpointsEndpoints
{
    public const int MaxCustomUserData = 2048;
    public const int MaxUserId = 256;

    public static void MapEndpoints(this IEndpointRouteBuilder routes)
    {
        var apps = routes.MapGroup("/v1/applications/{appId:guid}").WithTags("Endpoints").RequireProjectKey();
        apps.MapPost("/endpoints", CreateAsync)
            .WithName("createEndpoint")
            .Accepts<CreateEndpointRequest>("application/json")
            .Produces<EndpointResponse>(StatusCodes.Status201Created)
            .Produces<EndpointResponse>()
            .ProblemResponse(StatusCodes.Status404NotFound, "The application does not exist in this project.")
            .ProblemResponse(StatusCodes.Status409Conflict,
                "`endpoint-exists`: an endpoint of this application already has this token with different attributes; `endpointId` names it.")
            .WithSummary("Create an endpoint (SNS CreatePlatformEndpoint: idempotent for the same token and attributes, 409 endpoint-exists otherwise).");
        apps.MapPost("/registrations", RegisterAsync)
            .WithName("registerDevice")
            .Accepts<RegistrationRequest>("application/json")
            .Produces<RegistrationResponse>(StatusCodes.Status201Created)
            .Produces<RegistrationResponse>()
            .ProblemResponse(StatusCodes.Status404NotFound, "The application does not exist in this project.")
            .WithSummary("Register on app launch: make sure the endpoint exists, carries the newest token, is enabled and bound to the right user.");
        apps.MapGet("/endpoints", ListAsync)
            .WithName("listEndpoints")
            .Produces<EndpointPage>()
            .ProblemResponse(StatusCodes.Status400BadRequest, "A query parameter is not valid (`validation`; `errors` names it).")
            .ProblemResponse(StatusCodes.Status404NotFound, "The application does not exist in this project.")
            .WithSummary("List an application's endpoints (keyset pagination; filters enabled, userId, stale).");

        var endpoints = routes.MapGroup("/v1/endpoints").WithTags("Endpoints").RequireProjectKey();
        endpoints.MapGet("/{endpointId:guid}", GetAsync)
            .WithName("getEndpoint")
            .Produces<EndpointResponse>()
            .ProblemResponse(StatusCodes.Status404NotFound, "The endpoint does not exist in this project.")
            .WithSummary("Get an endpoint (SNS GetEndpointAttributes).");
        endpoints.MapPatch("/{endpointId:guid}", PatchAsync)
            .WithName("updateEndpoint")
            .Accepts<PatchEndpointRequest>("application/json")
            .Produces<EndpointResponse>()
            .ProblemResponse(StatusCodes.Status404NotFound, "The endpoint does not exist in this project.")
            .ProblemResponse(StatusCodes.Status409Conflict, "`endpoint-exists`: another endpoint of the application already has this token; `endpointId` names it.")
            .WithSummary("Change token, enabled, customUserData or userId (SNS SetEndpointAttributes).");
        endpoints.MapDelete("/{endpointId:guid}", DeleteAsync)
            .WithName("deleteEndpoint")
            .Produces(StatusCodes.Status204NoContent)
            .ProblemResponse(StatusCodes.Status404NotFound, "The endpoint does not exist in this project.")
            .WithSummary("Delete an endpoint.");
    }

    internal static Task<Application?> FindApplicationAsync(PushGatewayDbContext db, ProjectScope scope, Guid appId, CancellationToken cancellationToken) =>
        db.Applications.AsNoTracking().FirstOrDefaultAsync(a => a.Id == appId && a.ProjectId == scope.ProjectId, cancellationToken);

    private static async Task<IResult> CreateAsync(
        Guid appId, HttpRequest request, ProjectScope scope, PushGatewayDbContext db, EndpointRegistry registry, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<CreateEndpointRequest>(request, cancellationToken);
        if (body.Error is not null)
        {
            return body.Error;
        }

        var app = await FindApplicationAsync(db, scope, appId, cancellationToken);
        if (app is null)
        {
            return Problems.NotFound($"Application {appId} does not exist.");
        }

        var r = body.Value!;
        var v = new Validation();
        var token = CheckToken(app.Platform, r.Token, v);
        CheckAttributes(r.CustomUserData, r.UserId, v);
        if (r.Enabled is { IsSet: true, Value: null })
        {
            v.Add("enabled", "Must be true or false.");
        }

        if (!v.IsValid)
        {
            return v.ToProblem();
        }

        var result = await registry.CreateAsync(app, token, r.CustomUserData, r.Enabled.Value, r.UserId, cancellationToken);
        return result switch
        {
            CreateResult.Created c => TypedResults.Created($"/v1/endpoints/{c.Endpoint.Id}", EndpointResponse.From(c.Endpoint)),
            CreateResult.Existing e => TypedResults.Ok(EndpointResponse.From(e.Endpoint)),
            CreateResult.Conflict c => Problems.EndpointExists(c.ExistingId),
            _ => throw new InvalidOperationException(),
        };
    }

    private static async Task<IResult> RegisterAsync(
        Guid appId, HttpRequest request, ProjectScope scope, EndpointStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<RegistrationRequest>(request, cancellationToken);
        if (body.Error is not null)
        {
            return body.Error;
        }

        var known = await store.FindApplicationAsync(scope.ProjectId, appId, cancellationToken);
        if (known is null)
        {
            return Problems.NotFound($"Application {appId} does not exist.");
        }

        var r = body.Value!;
        var v = new Validation();
        var token = CheckToken(known.Platform, r.Token, v);
        CheckAttributes(r.CustomUserData, r.UserId, v);
        if (!v.IsValid)
        {
            return v.ToProblem();
        }

        // The commonest two (a known device launching again, a new device) in one statement; the rest in the registry.
        var result = await store.TryRegisterAsync(known, token, r.EndpointId.Value, r.UserId, r.CustomUserData, time.UtcNow(), cancellationToken);
        if (result is null)
        {
            var services = request.HttpContext.RequestServices;
            if (await FindApplicationAsync(services.GetRequiredService<PushGatewayDbContext>(), scope, appId, cancellationToken) is not { } app)
            {
                return Problems.NotFound($"Application {appId} does not exist.");
            }

            result = await services.GetRequiredService<EndpointRegistry>()
                .RegisterAsync(app, token, r.EndpointId.Value, r.UserId, r.CustomUserData, cancellationToken);
        }

        var response = new RegistrationResponse(result.Outcome, EndpointResponse.From(result.Endpoint));
        return result.Inserted
            ? TypedResults.Created($"/v1/endpoints/{result.Endpoint.Id}", response)
            : TypedResults.Ok(response);
    }

    private static async Task<IResult> ListAsync(
        Guid appId, ProjectScope scope, PushGatewayDbContext db, string? enabled, string? userId, string? stale, string? limit, string? cursor,
        Microsoft.Extensions.Options.IOptions<Delivery.StaleTokenOptions> staleOptions, TimeProvider time, CancellationToken cancellationToken)
    {
        var v = new Validation();
        Cursor.TryReadPage(limit, cursor, 100, 1000, v, out var take, out var after);
        bool? staleFilter = null;
        if (stale is not null)
        {
            if (bool.TryParse(stale, out var parsed))
            {
                staleFilter = parsed;
            }
            else
            {
                v.Add("stale", "Must be true or false.");
            }
        }

        bool? enabledFilter = null;
        if (enabled is not null)
        {
            if (bool.TryParse(enabled, out var parsed))
            {
                enabledFilter = parsed;
            }
            else
            {
                v.Add("enabled", "Must be true or false.");
            }
        }

        if (userId is not null)
        {
            v.Text("userId", userId, MaxUserId);
        }

        if (!v.IsValid)
        {
            return v.ToProblem();
        }

        if (await FindApplicationAsync(db, scope, appId, cancellationToken) is not { } app)
        {
            return Problems.NotFound($"Application {appId} does not exist.");
        }

        var query = db.Endpoints.AsNoTracking().Where(e => e.ApplicationId == appId);
        if (enabledFilter is { } en)
        {
            query = query.Where(e => e.Enabled == en);
        }

        if (staleFilter is { } wantStale)
        {
            // Stale: the app has not confirmed the token within its platform's limit (none: nothing is stale).
            var cutoff = Delivery.StaleTokenPolicy.Cutoff(app.Platform, staleOptions.Value, time.GetUtcNow());
            query = (wantStale, cutoff) switch
            {
                (true, null) => query.Where(e => false),
                (true, { } c) => query.Where(e => e.TokenUpdatedAt < c),
                (false, { } c) => query.Where(e => e.TokenUpdatedAt >= c),
                _ => query,
            };
        }

        if (userId is not null)
        {
            query = query.Where(e => e.UserId == userId);
        }

        if (after is { } last)
        {
            query = query.Where(e => e.Id > last);
        }

        var page = await query.OrderBy(e => e.Id).Take(take + 1).ToListAsync(cancellationToken);
        var next = page.Count > take ? Cursor.Encode(page[take - 1].Id) : null;
        return TypedResults.Ok(new EndpointPage(page.Take(take).Select(EndpointResponse.From).ToList(), next));
    }

    internal static async Task<IResult> GetAsync(Guid endpointId, ProjectScope scope, EndpointStore store, CancellationToken cancellationToken)
    {
        var endpoint = await store.FindAsync(scope.ProjectId, endpointId, cancellationToken);
        return endpoint is null ? NotFound(endpointId) : TypedResults.Ok(EndpointResponse.From(endpoint));
    }

    internal static async Task<IResult> PatchAsync(
        Guid endpointId, HttpRequest request, ProjectScope scope, PushGatewayDbContext db, EndpointRegistry registry, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<PatchEndpointRequest>(request, cancellationToken);
        if (body.Error is not null)
        {
            return body.Error;
        }

        var r = body.Value!;
        var platform = await db.Endpoints.AsNoTracking()
            .Where(e => e.Id == endpointId && e.ProjectId == scope.ProjectId)
            .Join(db.Applications, e => e.ApplicationId, a => a.Id, (e, a) => a.Platform)
            .FirstOrDefaultAsync(cancellationToken);
        if (platform is null)
        {
            return NotFound(endpointId);
        }

        var v = new Validation();
        var token = Optional<string>.Unset;
        if (r.Token.IsSet)
        {
            token = new Optional<string>(true, CheckToken(platform, r.Token.Value, v));
        }

        CheckAttributes(r.CustomUserData, r.UserId, v);
        if (r.Enabled is { IsSet: true, Value: null })
        {
            v.Add("enabled", "Must be true or false.");
        }

        if (!v.IsValid)
        {
            return v.ToProblem();
        }

        var result = await registry.PatchAsync(scope.ProjectId, endpointId,
            new EndpointRegistry.Patch(token, r.Enabled.Value, r.CustomUserData, r.UserId), cancellationToken);
        return result switch
        {
            EndpointRegistry.PatchResult.Updated u => TypedResults.Ok(EndpointResponse.From(u.Endpoint)),
            EndpointRegistry.PatchResult.TokenTaken t => Problems.Problem(StatusCodes.Status409Conflict, ProblemTypes.EndpointExists,
                "Endpoint already exists.", $"Endpoint {t.HolderId} of this application already has this token.",
                new Dictionary<string, object?> { ["endpointId"] = t.HolderId }),
            _ => NotFound(endpointId),
        };
    }

    internal static async Task<IResult> DeleteAsync(Guid endpointId, ProjectScope scope, EndpointRegistry registry, CancellationToken cancellationToken) =>
        await registry.DeleteAsync(scope.ProjectId, endpointId, cancellationToken) ? TypedResults.NoContent() : NotFound(endpointId);

    private static IResult NotFound(Guid endpointId) => Problems.NotFound($"Endpoint {endpointId} does not exist.");

    internal static string CheckToken(string platform, string? token, Validation v)
    {
        if (!Tokens.TryNormalize(platform, token, out var normalized, out var error))
        {
            v.Add("token", error);
        }

        return normalized;
    }

    internal static void CheckAttributes(Optional<string> customUserData, Optional<string> userId, Validation v)
    {
        if (customUserData is { IsSet: true, Value: { } data })
        {
            v.Text("customUserData", data, MaxCustomUserData, required: false);
        }

        if (userId is { IsSet: true, Value: { } user })
        {
            v.Text("userId", user, MaxUserId);
        }
    }
}
