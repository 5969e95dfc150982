using Microsoft.EntityFrameworkCore;
using PushGateway.Data;

namespace PushGateway.Hosting;

internal sealed record HealthResponse(string Status);

internal sealed record ReadinessResponse(string Status, string Database, IReadOnlyList<string> PendingMigrations);

/// <summary>Unauthenticated operations routes: liveness and readiness.</summary>
internal static class OperationsEndpoints
{
    public static void MapOperations(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse("ok")))
            .WithTags("Operations").WithSummary("The process is up.");
        routes.MapGet("/readyz", ReadyAsync)
            .WithTags("Operations").Produces<ReadinessResponse>().Produces<ReadinessResponse>(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("The database is reachable and fully migrated.");
    }

    private static async Task<IResult> ReadyAsync(PushGatewayDbContext db, CancellationToken cancellationToken)
    {
        try
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            var ready = pending.Count == 0;
            var body = new ReadinessResponse(ready ? "ready" : "not-migrated", "reachable", pending);
            return ready ? TypedResults.Ok(body) : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        catch (Exception ex) when (GatewayApp.IsDatabaseUnavailable(ex) || ex is InvalidOperationException)
        {
            return TypedResults.Json(new ReadinessResponse("unavailable", "unreachable", []), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
