using Microsoft.EntityFrameworkCore;
using PushGateway.Data;
using PushGateway.Endpoints;
using PushGateway.Hosting;

namespace PushGateway.Users;

/// <summary>Users: the app backend's own user ids, bound to 0..n endpoints across the project's applications.</summary>
internal static class UsersEndpoints
{
    public static void MapUsers(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/users/{userId}/endpoints").WithTags("Users").RequireProjectKey();
        group.MapGet("/", ListAsync)
            .WithName("listUserEndpoints")
            .Produces<EndpointList>()
            .ProblemResponse(StatusCodes.Status400BadRequest, UserIdInvalid + " Or `limit` or `cursor` is not valid.")
            .WithSummary("A user's endpoints across the project's applications (keyset pagination: limit 1..1000, default 100; pass nextCursor as cursor).");
        group.MapDelete("/{endpointId:guid}", UnbindOneAsync)
            .WithName("unbindUserEndpoint")
            .Produces(StatusCodes.Status204NoContent)
            .ProblemResponse(StatusCodes.Status400BadRequest, UserIdInvalid)
            .ProblemResponse(StatusCodes.Status404NotFound, "The endpoint is not bound to this user in this project.")
            .WithSummary("Unbind one device from the user (logout on that device); the endpoint stays.");
        group.MapDelete("/", UnbindAllAsync)
            .WithName("unbindUserEndpoints")
            .Produces(StatusCodes.Status204NoContent)
            .ProblemResponse(StatusCodes.Status400BadRequest, UserIdInvalid)
            .WithSummary("Unbind all the user's devices (logout everywhere); the endpoints stay.");
    }

    private const string UserIdInvalid = "The userId is empty, too long or has characters that cannot be stored (`validation`).";

    private static async Task<IResult> ListAsync(
        string userId, ProjectScope scope, PushGatewayDbContext db, string? limit, string? cursor, CancellationToken cancellationToken)
    {
        var v = new Validation();
        v.Text("userId", userId, EndpointsEndpoints.MaxUserId);
        if (!Cursor.TryReadPage(limit, cursor, v, out var take, out var after))
        {
            return v.ToProblem();
        }

        var query = db.Endpoints.AsNoTracking().Where(e => e.ProjectId == scope.ProjectId && e.UserId == userId);
        if (after is { } last)
        {
            query = query.Where(e => e.Id > last);
        }

        var rows = await query.OrderBy(e => e.Id).Take(take + 1).ToListAsync(cancellationToken);
        var (items, next) = Cursor.Split(rows, take, e => Cursor.Encode(e.Id));
        return TypedResults.Ok(new EndpointList(items.Select(EndpointResponse.From).ToList(), next));
    }

    private static async Task<IResult> UnbindOneAsync(string userId, Guid endpointId, ProjectScope scope, EndpointRegistry registry, CancellationToken cancellationToken)
    {
        var v = new Validation();
        if (!v.Text("userId", userId, EndpointsEndpoints.MaxUserId))
        {
            return v.ToProblem();
        }

        return await registry.UnbindUserAsync(scope.ProjectId, userId, endpointId, cancellationToken) == 0
            ? Problems.NotFound($"Endpoint {endpointId} is not bound to this user.")
            : TypedResults.NoContent();
    }

    private static async Task<IResult> UnbindAllAsync(string userId, ProjectScope scope, EndpointRegistry registry, CancellationToken cancellationToken)
    {
        var v = new Validation();
        if (!v.Text("userId", userId, EndpointsEndpoints.MaxUserId))
        {
            return v.ToProblem();
        }

        await registry.UnbindUserAsync(scope.ProjectId, userId, null, cancellationToken);
        return TypedResults.NoContent();
    }
}
