using Microsoft.EntityFrameworkCore;
using PushGateway.Data;
using PushGateway.Hosting;
using PushGateway.Sns;

namespace PushGateway.Projects;

internal sealed record CreateSnsCredentialRequest(string? Name = null);

internal sealed record SnsCredentialCreatedResponse(Guid Id, string AccessKeyId, string SecretAccessKey, string AccountId, string? Name, DateTimeOffset CreatedAt);

internal sealed record SnsCredentialResponse(Guid Id, string AccessKeyId, string AccountId, string? Name, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

internal sealed record SnsCredentialList(IReadOnlyList<SnsCredentialResponse> Items, string? NextCursor);

/// <summary>
/// Access key pairs for the SNS-compatible API at <c>/sns</c>. The admin key manages any project's; a project key only
/// its own project's. The secret is returned once, at creation, and stored encrypted (SigV4 needs it to verify).
/// </summary>
internal static class SnsCredentialsEndpoints
{
    private const string ProjectMissing = "The project does not exist.";

    public static void MapSnsCredentials(this IEndpointRouteBuilder routes)
    {
        // The admin key or a project key; the handlers check that a project key acts in its own project.
        var group = routes.MapGroup("/v1/projects/{projectId:guid}/sns-credentials").WithTags("SNS credentials").RequireAdminOrProjectKey();
        group.MapPost("/", CreateAsync)
            .WithName("createSnsCredential")
            .Accepts<CreateSnsCredentialRequest>("application/json")
            .Produces<SnsCredentialCreatedResponse>(StatusCodes.Status201Created)
            .ProblemResponse(StatusCodes.Status404NotFound, ProjectMissing)
            .WithSummary("Create an SNS access key pair (for AWS SDKs pointed at /sns). The secret is returned once.");
        group.MapGet("/", ListAsync)
            .WithName("listSnsCredentials")
            .Produces<SnsCredentialList>()
            .ProblemResponse(StatusCodes.Status400BadRequest, "`limit` or `cursor` is not valid (`validation`; `errors` names it).")
            .ProblemResponse(StatusCodes.Status404NotFound, ProjectMissing)
            .WithSummary("List the project's SNS access keys, never the secrets (keyset pagination: limit 1..1000, default 100).");
        group.MapDelete("/{accessKeyId}", RevokeAsync)
            .WithName("revokeSnsCredential")
            .Produces(StatusCodes.Status204NoContent)
            .ProblemResponse(StatusCodes.Status404NotFound, "The access key does not exist in this project or is already revoked.")
            .WithSummary("Revoke an SNS access key; requests signed with it fail at once (InvalidClientTokenId).");
    }

    private static async Task<IResult> CreateAsync(
        Guid projectId, HttpRequest request, ProjectScope? scope, PushGatewayDbContext db, SecretBox secrets, TimeProvider time, CancellationToken cancellationToken)
    {
        if (OtherProject(scope, projectId) is { } forbidden)
        {
            return forbidden;
        }

        string? name = null;
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var body = await JsonBody.ReadAsync<CreateSnsCredentialRequest>(request, cancellationToken);
            if (body.Error is not null)
            {
                return body.Error;
            }

            name = body.Value?.Name;
            var validation = new Validation();
            validation.Text("name", name, 200, required: false);
            if (!validation.IsValid)
            {
                return validation.ToProblem();
            }
        }

        if (!await db.Projects.AnyAsync(p => p.Id == projectId, cancellationToken))
        {
            return Problems.NotFound($"Project {projectId} does not exist.");
        }

        var secret = SnsCredentials.NewSecret();
        var credential = new SnsCredential
        {
            Id = Guid.CreateVersion7(),
            ProjectId = projectId,
            AccessKeyId = SnsCredentials.NewAccessKeyId(),
            SecretCiphertext = [],
            Name = name?.Trim(),
            CreatedAt = time.UtcNow(),
        };
        credential.SecretCiphertext = secrets.SealString(secret, SnsCredentials.SecretContext(credential.Id));
        db.SnsCredentials.Add(credential);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/v1/projects/{projectId}/sns-credentials/{credential.AccessKeyId}",
            new SnsCredentialCreatedResponse(credential.Id, credential.AccessKeyId, secret, SnsAccount.For(projectId), credential.Name, credential.CreatedAt));
    }

    private static async Task<IResult> ListAsync(
        Guid projectId, ProjectScope? scope, PushGatewayDbContext db, string? limit, string? cursor, CancellationToken cancellationToken)
    {
        if (OtherProject(scope, projectId) is { } forbidden)
        {
            return forbidden;
        }

        var v = new Validation();
        if (!Cursor.TryReadPage(limit, cursor, v, out var take, out var after))
        {
            return v.ToProblem();
        }

        if (!await db.Projects.AnyAsync(p => p.Id == projectId, cancellationToken))
        {
            return Problems.NotFound($"Project {projectId} does not exist.");
        }

        var account = SnsAccount.For(projectId);
        var query = db.SnsCredentials.AsNoTracking().Where(c => c.ProjectId == projectId);
        if (after is { } last)
        {
            query = query.Where(c => c.Id > last);
        }

        var rows = await query.OrderBy(c => c.Id).Take(take + 1)
            .Select(c => new SnsCredentialResponse(c.Id, c.AccessKeyId, account, c.Name, c.CreatedAt, c.RevokedAt))
            .ToListAsync(cancellationToken);
        var (items, next) = Cursor.Split(rows, take, c => Cursor.Encode(c.Id));
        return TypedResults.Ok(new SnsCredentialList(items, next));
    }

    private static async Task<IResult> RevokeAsync(
        Guid projectId, string accessKeyId, ProjectScope? scope, PushGatewayDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (OtherProject(scope, projectId) is { } forbidden)
        {
            return forbidden;
        }

        var now = time.UtcNow();
        var revoked = await db.SnsCredentials
            .Where(c => c.AccessKeyId == accessKeyId && c.ProjectId == projectId && c.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.RevokedAt, now), cancellationToken);
        return revoked == 0
            ? Problems.NotFound($"SNS access key {accessKeyId} does not exist in project {projectId} or is already revoked.")
            : TypedResults.NoContent();
    }

    /// <summary>A project key acts only in its own project (the admin key has no scope and may act in any).</summary>
    private static IResult? OtherProject(ProjectScope? scope, Guid projectId) =>
        scope is not null && scope.ProjectId != projectId
            ? Problems.Forbidden("A project key manages only its own project's SNS credentials.")
            : null;
}
