using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using PushGateway.Data;
using PushGateway.Delivery;

namespace PushGateway.Hosting;

internal sealed record HealthResponse(string Status);

internal sealed record QueueHealth(long Pending, long Held, double OldestDueSeconds, DateTimeOffset? SampledAt);

/// <summary>
/// Counts for everyone; the lists (application ids, names, disabled reasons) only for the admin key, since /readyz is
/// open and the applications belong to every tenant.
/// </summary>
internal sealed record CredentialHealth(
    int DisabledApplicationCount,
    int MisconfiguredApplicationCount,
    int ExpiringCertificateCount,
    double? SoonestCertificateExpirySeconds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<DisabledApplication>? DisabledApplications,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<CertificateExpiry>? CertificatesExpiringWithin30Days);

internal sealed record ReadinessResponse(string Status, string Database, IReadOnlyList<string> PendingMigrations, QueueHealth? Queue, CredentialHealth? Credentials);

/// <summary>
/// Unauthenticated operations routes: liveness and readiness. Without a key they show aggregates only; the admin key
/// adds the per-application detail (see also <see cref="ApplicationMetrics"/> for /metrics).
/// </summary>
internal static class OperationsEndpoints
{
    public static void MapOperations(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse("ok")))
            .WithName("getLiveness").WithTags("Operations").WithSummary("The process is up.");
        routes.MapGet("/readyz", ReadyAsync)
            .WithName("getReadiness")
            .WithTags("Operations").Produces<ReadinessResponse>().Produces<ReadinessResponse>(StatusCodes.Status503ServiceUnavailable)
            .ProblemResponse(StatusCodes.Status403Forbidden, "A key other than the admin key was sent (`forbidden`); send none for the aggregates.")
            .WithSummary("Ready when the database is reachable and fully migrated; the body also shows the queue and credential health.")
            .WithDescription("Without Authorization: counts only. With the admin key: also the disabled applications and expiring certificates by name. Any other key: 403.");
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
                    OperationId = "getMetrics",
                    Summary = "Metrics in the Prometheus text format (deliveries, queue, providers, webhooks, APNs certificate expiry, runtime).",
                    Description = "Without Authorization: aggregates only. With the admin key (Prometheus `authorization` in the scrape config): also the per-application series (pushgateway_apns_certificate_expiry_seconds{application_id,application}). Any other key: 403.",
                    Tags = new HashSet<Microsoft.OpenApi.OpenApiTagReference> { new("Operations", document) },
                    Security = ApiDocumentTransformer.OptionalAdminKey(document),
                    Responses = new Microsoft.OpenApi.OpenApiResponses
                    {
                        ["200"] = new Microsoft.OpenApi.OpenApiResponse
                        {
                            Description = "Prometheus text exposition format.",
                            Content = new Dictionary<string, Microsoft.OpenApi.OpenApiMediaType> { ["text/plain"] = new() { Schema = new Microsoft.OpenApi.OpenApiSchema { Type = Microsoft.OpenApi.JsonSchemaType.String } } },
                        },
                        ["403"] = ApiDocumentTransformer.ProblemResponse(document, "A key other than the admin key was sent (`forbidden`); send none for the aggregates."),
                    },
                },
            },
        };
        return Task.CompletedTask;
    }

    private static async Task<IResult> ReadyAsync(HttpContext context, PushGatewayDbContext db, QueueStats stats, CancellationToken cancellationToken)
    {
        var admin = ApiKeyAuth.PresentsAdminKey(context);
        if (admin == false)
        {
            return Problems.Forbidden("The per-application detail needs the admin key; send no Authorization header for the aggregates.");
        }

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
                Credentials(snapshot, detail: admin == true));
            return ready ? TypedResults.Ok(body) : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        catch (Exception ex) when (GatewayApp.IsDatabaseUnavailable(ex) || ex is InvalidOperationException)
        {
            return TypedResults.Json(new ReadinessResponse("unavailable", "unreachable", [], null, null), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    private static CredentialHealth Credentials(QueueSnapshot snapshot, bool detail)
    {
        var expiring = snapshot.ExpiringCertificates;
        var soonest = snapshot.SoonestCertificateExpirySeconds;
        return new CredentialHealth(
            snapshot.DisabledApplications.Count,
            snapshot.MisconfiguredApplicationCount,
            expiring.Count,
            soonest is { } seconds ? Math.Round(seconds, 3) : null,
            detail ? snapshot.DisabledApplications : null,
            detail ? expiring : null);
    }
}
