using Microsoft.EntityFrameworkCore;
using PushGateway.Data;
using PushGateway.Hosting;

namespace PushGateway.Projects;

internal sealed record CreateProjectRequest(string Name);

internal sealed record CreateApiKeyRequest(string Name);

internal sealed record ProjectResponse(Guid Id, string Name, DateTimeOffset CreatedAt)
{
    public static ProjectResponse From(Project p) => new(p.Id, p.Name, p.CreatedAt);
}

internal sealed record ApiKeyCreatedResponse(Guid Id, string Name, string Key, string Prefix, DateTimeOffset CreatedAt);

internal sealed record ApiKeyResponse(Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

internal sealed record ApiKeyList(IReadOnlyList<ApiKeyResponse> Items, string? NextCursor);

internal sealed record ProjectList(IReadOnlyList<ProjectResponse> Items, string? NextCursor);

/// <summary>Admin routes: projects (tenants) and their API keys.</summary>
internal static class ProjectsEndpoints
{
    public static void MapProjects(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/projects").WithTags("Projects (admin)").RequireAdminKey();

        group.MapPost("/", CreateAsync)
            .WithName("createProject")
            .Accepts<CreateProjectRequest>("application/json")
            .Produces<ProjectResponse>(StatusCodes.Status201Created)
            .WithSummary("Create a project (tenant).");
        group.MapGet("/", ListAsync)
            .WithName("listProjects")
            .Produces<ProjectList>()
            .ProblemResponse(StatusCodes.Status400BadRequest, PageInvalid)
            .WithSummary("List projects (keyset pagination: limit 1..1000, default 100; pass nextCursor as cursor).");
        group.MapGet("/{projectId:guid}", GetAsync)
            .WithName("getProject")
            .Produces<ProjectResponse>()
            .ProblemResponse(StatusCodes.Status404NotFound, "The project does not exist.")
            .WithSummary("Get a project.");
        group.MapPost("/{projectId:guid}/api-keys", CreateKeyAsync)
            .WithName("createApiKey")
            .Accepts<CreateApiKeyRequest>("application/json")
            .Produces<ApiKeyCreatedResponse>(StatusCodes.Status201Created)
            .ProblemResponse(StatusCodes.Status404NotFound, "The project does not exist.")
            .WithSummary("Create a project API key. The key is returned once and stored only as a hash.");
        group.MapGet("/{projectId:guid}/api-keys", ListKeysAsync)
            .WithName("listApiKeys")
            .Produces<ApiKeyList>()
            .ProblemResponse(StatusCodes.Status400BadRequest, PageInvalid)
            .ProblemResponse(StatusCodes.Status404NotFound, "The project does not exist.")
            .WithSummary("List a project's API keys, never the keys themselves (keyset pagination: limit 1..1000, default 100).");
        group.MapDelete("/{projectId:guid}/api-keys/{keyId:guid}", RevokeKeyAsync)
            .WithName("revokeApiKey")
            .Produces(StatusCodes.Status204NoContent)
            .ProblemResponse(StatusCodes.Status404NotFound, "The key does not exist in this project, or is already revoked.")
            .WithSummary("Revoke an API key; it stops working at once.");
    }

    private const string PageInvalid = "`limit` or `cursor` is not valid (`validation`; `errors` names it).";

    internal static async Task<IResult> CreateAsync(HttpRequest request, PushGatewayDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<CreateProjectRequest>(request, cancellationToken);
        if (body.Error is not null)
        {
            return body.Error;
        }

        var validation = new Validation();
        validation.Text("name", body.Value!.Name, 200);
        if (!validation.IsValid)
        {
            return validation.ToProblem();
        }

        var project = new Project { Id = Guid.CreateVersion7(), Name = body.Value.Name.Trim(), CreatedAt = time.UtcNow() };
        db.Projects.Add(project);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/v1/projects/{project.Id}", ProjectResponse.From(project));
    }

    internal static async Task<IResult> ListAsync(PushGatewayDbContext db, string? limit, string? cursor, CancellationToken cancellationToken)
    {
        var v = new Validation();
        if (!Cursor.TryReadPage(limit, cursor, v, out var take, out var after))
        {
            return v.ToProblem();
        }

        var query = db.Projects.AsNoTracking();
        if (after is { } last)
        {
            query = query.Where(p => p.Id > last);
        }

        var rows = await query.OrderBy(p => p.Id).Take(take + 1).ToListAsync(cancellationToken);
        var (items, next) = Cursor.Split(rows, take, p => Cursor.Encode(p.Id));
        return TypedResults.Ok(new ProjectList(items.Select(ProjectResponse.From).ToList(), next));
    }

    internal static async Task<IResult> GetAsync(Guid projectId, PushGatewayDbContext db, CancellationToken cancellationToken)
    {
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, cancellationToken);
        return project is null ? Problems.NotFound($"Project {projectId} does not exist.") : TypedResults.Ok(ProjectResponse.From(project));
    }

    internal static async Task<IResult> CreateKeyAsync(Guid projectId, HttpRequest request, PushGatewayDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<CreateApiKeyRequest>(request, cancellationToken);
        if (body.Error is not null)
        {
            return body.Error;
        }

        var validation = new Validation();
        validation.Text("name", body.Value!.Name, 200);
        if (!validation.IsValid)
        {
            return validation.ToProblem();
        }

        if (!await db.Projects.AnyAsync(p => p.Id == projectId, cancellationToken))
        {
            return Problems.NotFound($"Project {projectId} does not exist.");
        }

        var key = ApiKeyAuth.NewKey();
        var apiKey = new ApiKey
        {
            Id = Guid.CreateVersion7(),
            ProjectId = projectId,
            Name = body.Value.Name.Trim(),
            KeyHash = ApiKeyAuth.Hash(key),
            Prefix = key[..12],
            CreatedAt = time.UtcNow(),
        };
        db.ApiKeys.Add(apiKey);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/v1/projects/{projectId}/api-keys/{apiKey.Id}",
            new ApiKeyCreatedResponse(apiKey.Id, apiKey.Name, key, apiKey.Prefix, apiKey.CreatedAt));
    }

    internal static async Task<IResult> ListKeysAsync(
        Guid projectId, PushGatewayDbContext db, string? limit, string? cursor, CancellationToken cancellationToken)
    {
        var v = new Validation();
        if (!Cursor.TryReadPage(limit, cursor, v, out var take, out var after))
        {
            return v.ToProblem();
        }

        if (!await db.Projects.AnyAsync(p => p.Id == projectId, cancellationToken))
        {
            return Problems.NotFound($"Project {projectId} does not exist.");
        }

        var query = db.ApiKeys.AsNoTracking().Where(k => k.ProjectId == projectId);
        if (after is { } last)
        {
            query = query.Where(k => k.Id > last);
        }

        var rows = await query.OrderBy(k => k.Id).Take(take + 1)
            .Select(k => new ApiKeyResponse(k.Id, k.Name, k.Prefix, k.CreatedAt, k.RevokedAt))
            .ToListAsync(cancellationToken);
        var (items, next) = Cursor.Split(rows, take, k => Cursor.Encode(k.Id));
        return TypedResults.Ok(new ApiKeyList(items, next));
    }

    internal static async Task<IResult> RevokeKeyAsync(
        Guid projectId, Guid keyId, PushGatewayDbContext db, ApiKeyCache keys, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.UtcNow();
        var revoked = await db.ApiKeys
            .Where(k => k.Id == keyId && k.ProjectId == projectId && k.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), cancellationToken);
        // The other replicas hear it from the trigger's notification; this one forgets the key before it answers.
        keys.ForgetKey(keyId);
        return revoked == 0 ? Problems.NotFound($"API key {keyId} does not exist in project {projectId} or is already revoked.") : TypedResults.NoContent();
    }
}
