namespace PushGateway.Hosting;

/// <summary>What a problem response means on one route; the operation transformer writes it as the response's description.</summary>
internal sealed record ProblemResponseDescription(int StatusCode, string Description);

internal static class OpenApiMetadata
{
    /// <summary>
    /// Declares a problem response this route's own code answers (RFC 9457, <c>application/problem+json</c>), with
    /// what it means here. The answers every route of a kind shares (401/403 from the key check, 400/413/415 from the
    /// body reader, 503 when the database is down) are added by <see cref="ApiOperationTransformer"/>.
    /// </summary>
    public static RouteHandlerBuilder ProblemResponse(this RouteHandlerBuilder builder, int statusCode, string description) =>
        builder.ProducesProblem(statusCode).WithMetadata(new ProblemResponseDescription(statusCode, description));
}
