using Microsoft.EntityFrameworkCore;
using PushGateway.Data;
using PushGateway.Delivery;

namespace PushGateway.Hosting;

internal sealed record HealthResponse(string Status);

internal sealed record QueueHealth(long Pending, long Held, double OldestDueSeconds, DateTimeOffset? SampledAt);

internal sealed record CredentialHealth(IReadOnlyList<DisabledApplication> DisabledApplications, IReadOnlyList<CertificateExpiry> CertificatesExpiringWithin30Days);

internal sealed record ReadinessResponse(string Status, string Database, IReadOnlyList<string> PendingMigrations, QueueHealth? Queue, CredentialHealth? Credentials);

/// <summary>Unauthenticated operations routes: liveness and readiness.</summary>
internal static class OperationsEndpoints
{
    public static void MapOperations(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse("ok")))
            .WithTags("Operations").WithSummary("The process is up.");
        routes.MapGet("/readyz", ReadyAsync)
            .WithTags("Operations").Produces<ReadinessResponse>().Produces<ReadinessResponse>(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Ready when the database is reachable and fully migrated; the body also shows the queue and credential health.");
    }

    /// <summary>The Prometheus endpoint is middleware, not a minimal-API route: describe it in the OpenAPI document by hand.</summary>
    public static Task DescribeMetrics(Microsoft.OpenApi.OpenApiDocument document, Microsoft.AspNetCore.OpenApi.OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Paths ??= new Microsoft.OpenApi.OpenApiPaths();
        document.Paths["/metrics"] = new Microsoft.OpenApi.OpenApiPathItem
        {
            Operations = new Dictionary<System.Net.Http.HttpMethod, Microsoft.OpenApi.OpenApiOperation>
            {
                [System.Net.Http.HttpMethod.Get] = new()
                {
                    Summary = "Metrics in the Prometheus text format (deliveries, queue, providers, webhooks, APNs certificate expiry, runtime).",
                    Tags = new HashSet<Microsoft.OpenApi.OpenApiTagReference> { new("Operations", document) },
                    Responses = new Microsoft.OpenApi.OpenApiResponses { ["200"] = new Microsoft.OpenApi.OpenApiResponse { Description = "Prometheus text exposition format." } },
                },
            },
        };
        return Task.CompletedTask;
    }

    private static async Task<IResult> ReadyAsync(PushGatewayDbContext db, QueueStats stats, CancellationToken cancellationToken)
    {
        try
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            var ready = pending.Count == 0;
            var snapshot = stats.Current;
            var body = new ReadinessResponse(
                ready ? "ready" : "not-migrated",
                "reachable",
                pending,
                new QueueHealth(snapshot.Pending, snapshot.Held, Math.Round(snapshot.OldestDueSeconds, 3),
                    snapshot.TakenAt == DateTimeOffset.MinValue ? null : snapshot.TakenAt),
                new CredentialHealth(snapshot.DisabledApplications,
                    snapshot.Certificates.Where(c => c.SecondsLeft < TimeSpan.FromDays(30).TotalSeconds).ToList()));
            return ready ? TypedResults.Ok(body) : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        catch (Exception ex) when (GatewayApp.IsDatabaseUnavailable(ex) || ex is InvalidOperationException)
        {
            return TypedResults.Json(new ReadinessResponse("unavailable", "unreachable", [], null, null), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
