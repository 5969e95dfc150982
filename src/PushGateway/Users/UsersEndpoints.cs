using Microsoft.EntityFrameworkCore;
using PushGateway.Data;
using PushGateway.Endpoints;
using PushGateway.Hosting;

namespace PushGateway.Users;

/// <summary>Users: the app backend's own user ids, bound to 0..n endpoints across the project's applications.</summary>
internal static class UsersEndpoints
{
    private const int MaxEndpointsPerUser = 1000;

    public static void MapUsers(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/users/{userId}/endpoints").WithTags("Users").RequireProjectKey();
        group.MapGet("/", ListAsync)
            .WithName("listUserEndpoints")
            .Produces<EndpointList>()
            .ProblemResponse(StatusCodes.Status400BadRequest, UserIdInvalid)
            .WithSummary("A user's endpoints across the project's applications.");
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

    private static async Task<IResult> ListAsync(string userId, ProjectScope scope, PushGatewayDbContext db, CancellationToken cancellationToken)
    {
        var v = new Validation();
        if (!v.Text("userId", userId, EndpointsEndpoints.MaxUserId))
        {
            return v.ToProblem();
        }

        var endpoints = await db.Endpoints.AsNoTracking()
            .Where(e => e.ProjectId == scope.ProjectId && e.UserId == userId)
            .OrderBy(e => e.Id).Take(MaxEndpointsPerUser)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new EndpointList(endpoints.Select(EndpointResponse.From).ToList()));
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
