using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace PushGateway.Hosting;

/// <summary>
/// Per operation: which key it needs (from the same metadata <see cref="ApiKeyAuth"/> enforces), the problem answers
/// it shares with every route of its kind, one problem schema for all of them, and the examples of <see cref="ApiExamples"/>.
/// </summary>
internal sealed class ApiOperationTransformer : IOpenApiOperationTransformer
{
    private const string ProblemJson = "application/problem+json";

    private static readonly Dictionary<int, string> Generic = new()
    {
        [StatusCodes.Status400BadRequest] = "The request is not valid (`validation`): malformed JSON, a wrong type, an unknown or duplicate field, " +
            "or a value that breaks its rule; `errors` names each field.",
        [StatusCodes.Status401Unauthorized] = "No key, or the key is unknown or revoked (`unauthorized`).",
        [StatusCodes.Status404NotFound] = "Not found in this project (`not-found`).",
        [StatusCodes.Status409Conflict] = "The request conflicts with the current state (`conflict`).",
        [StatusCodes.Status413PayloadTooLarge] = "The body is over 1 MiB (`payload-too-large`).",
        [StatusCodes.Status415UnsupportedMediaType] = "The body is not sent as application/json (`unsupported-media-type`).",
        [StatusCodes.Status422UnprocessableEntity] = "The Idempotency-Key was used with a different body (`idempotency-conflict`).",
        [StatusCodes.Status503ServiceUnavailable] = "The database is unavailable; retry later (`service-unavailable`).",
    };

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var document = context.Document ?? throw new InvalidOperationException("The operation transformer needs the document.");
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var path = new PathString("/" + context.Description.RelativePath);
        var required = RequiredKey(metadata, path);
        operation.Security = Security(required, path, document);
        operation.Responses ??= new OpenApiResponses();
        if (required is not null)
        {
            AddProblem(operation, document, StatusCodes.Status401Unauthorized);
            if (required.Kind is KeyKind.Admin or KeyKind.Project or KeyKind.AdminOrProject)
            {
                AddProblem(operation, document, StatusCodes.Status403Forbidden, required.Kind switch
                {
                    KeyKind.Admin => "A project key was sent; this route needs the admin key (`forbidden`).",
                    KeyKind.Project => "The admin key was sent; this route needs a project API key (`forbidden`).",
                    _ => "A project key of another project was sent; a project key acts only in its own project (`forbidden`).",
                });
            }
        }

        if (operation.RequestBody is not null)
        {
            // What JsonBody answers before the route's own checks.
            AddProblem(operation, document, StatusCodes.Status400BadRequest);
            AddProblem(operation, document, StatusCodes.Status413PayloadTooLarge);
            AddProblem(operation, document, StatusCodes.Status415UnsupportedMediaType);
        }

        if (path.StartsWithSegments(ApiKeyAuth.ApiPrefix, StringComparison.OrdinalIgnoreCase))
        {
            AddProblem(operation, document, StatusCodes.Status503ServiceUnavailable);
        }

        foreach (var declared in metadata.OfType<ProblemResponseDescription>())
        {
            UseProblemSchema(operation, document, declared.StatusCode, declared.Description);
        }

        ApiExamples.Apply(operation);
        return Task.CompletedTask;
    }

    /// <summary>The rule of <see cref="ApiKeyAuth.RequiredFor"/>, read from the endpoint's metadata.</summary>
    private static RequiredKey? RequiredKey(IList<object> metadata, PathString path)
    {
        if (metadata.OfType<RequiredKey>().LastOrDefault() is { } declared)
        {
            return declared;
        }

        return !metadata.OfType<IAllowAnonymous>().Any() && path.StartsWithSegments(ApiKeyAuth.ApiPrefix, StringComparison.OrdinalIgnoreCase)
            ? new RequiredKey(KeyKind.Any)
            : null;
    }

    private static List<OpenApiSecurityRequirement> Security(RequiredKey? required, PathString path, OpenApiDocument document) => required?.Kind switch
    {
        KeyKind.Admin => [ApiDocumentTransformer.Requirement(document, ApiDocumentTransformer.AdminKeyScheme)],
        KeyKind.Project => [ApiDocumentTransformer.Requirement(document, ApiDocumentTransformer.ProjectKeyScheme)],
        KeyKind.Any or KeyKind.AdminOrProject => [ApiDocumentTransformer.Requirement(document, ApiDocumentTransformer.AdminKeyScheme),
            ApiDocumentTransformer.Requirement(document, ApiDocumentTransformer.ProjectKeyScheme)],
        // /readyz shows more to the admin key (and refuses other keys); /healthz takes none.
        _ => path == "/readyz" ? ApiDocumentTransformer.OptionalAdminKey(document) : [new OpenApiSecurityRequirement()],
    };

    private static void AddProblem(OpenApiOperation operation, OpenApiDocument document, int status, string? description = null)
    {
        if (!operation.Responses!.ContainsKey(status.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            UseProblemSchema(operation, document, status, description);
        }
    }

    private static void UseProblemSchema(OpenApiOperation operation, OpenApiDocument document, int status, string? description)
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        operation.Responses![key] = ApiDocumentTransformer.ProblemResponse(document, description ?? Generic.GetValueOrDefault(status, "A problem."));
    }
}
