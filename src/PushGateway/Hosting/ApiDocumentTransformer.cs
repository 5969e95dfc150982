using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace PushGateway.Hosting;

/// <summary>
/// The document-wide parts of <c>/openapi/v1.json</c>: what the API is, the two bearer keys, the tags, and one
/// problem schema for every <c>application/problem+json</c> answer. Runs after the operations are built.
/// </summary>
internal sealed class ApiDocumentTransformer : IOpenApiDocumentTransformer
{
    public const string AdminKeyScheme = "adminKey";
    public const string ProjectKeyScheme = "projectKey";
    public const string ProblemSchema = "ProblemDetails";

    private static readonly (string Name, string Description)[] Tags =
    [
        ("Projects (admin)", "Projects (tenants) and their API keys. Admin key only."),
        ("SNS credentials", "Access key pairs for the SNS-compatible API at /sns (AWS SDKs sign with them): the admin key for any project, a project key for its own."),
        ("Applications", "An app on one platform (APNs or FCM) with its provider credentials, kept encrypted and never returned."),
        ("Endpoints", "Devices: one endpoint per push token of an application (SNS platform endpoints), and the register-on-launch flow."),
        ("Users", "The backend's own user ids, bound to endpoints across the project's applications."),
        ("Topics", "Named fan-out lists of endpoints."),
        ("Messages", "Sending (202 once durably queued) and receipts: the message's counts and each endpoint's delivery."),
        ("Events", "Webhook events of an application (endpoint disabled, delivery failed, ...) with their delivery state; manual retry."),
        ("Operations", "Liveness, readiness and metrics for the operator: open, with more detail for the admin key."),
    ];

    /// <summary>The operations under <c>/v1</c> and the operator's routes; other areas (an SNS facade, a console) are not this REST API.</summary>
    public static bool ShouldInclude(ApiDescription description)
    {
        var path = description.RelativePath ?? "";
        return path.StartsWith("v1/", StringComparison.OrdinalIgnoreCase) || path.Equals("v1", StringComparison.OrdinalIgnoreCase)
            || path is "healthz" or "readyz";
    }

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "PushGateway";
        document.Info.Version = "v1";
        document.Info.Description =
            "A self-hosted push notification gateway: register device tokens, send through APNs and FCM, read the receipts. " +
            "Every /v1 route takes `Authorization: Bearer <key>`: the admin key for projects and their keys, a project API key " +
            "for everything inside a project. Errors are RFC 9457 `application/problem+json` with a stable `type`.";
        foreach (var server in document.Servers ?? [])
        {
            // The framework writes the request's base address with a trailing slash; paths already start with one.
            server.Url = server.Url?.TrimEnd('/');
        }

        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
        {
            [AdminKeyScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "The gateway's admin key (PushGateway__AdminKey): manages projects and their API keys, nothing inside a project.",
            },
            [ProjectKeyScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "pgk_…",
                Description = "A project API key (`pgk_…`, from POST /v1/projects/{projectId}/api-keys): everything inside that project.",
            },
        };
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        document.Components.Schemas[ProblemSchema] = Problem();
        document.Components.Schemas.Remove("HttpValidationProblemDetails");
        document.Tags = new HashSet<OpenApiTag>(Tags.Select(t => new OpenApiTag { Name = t.Name, Description = t.Description }));
        return Task.CompletedTask;
    }

    /// <summary>Security for the open routes that show more to the admin key: none, or the admin key.</summary>
    public static List<OpenApiSecurityRequirement> OptionalAdminKey(OpenApiDocument document) =>
        [new OpenApiSecurityRequirement(), Requirement(document, AdminKeyScheme)];

    public static OpenApiSecurityRequirement Requirement(OpenApiDocument document, string scheme) =>
        new() { [new OpenApiSecuritySchemeReference(scheme, document)] = [] };

    public static OpenApiResponse ProblemResponse(OpenApiDocument document, string description) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType>
        {
            ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(ProblemSchema, document) },
        },
    };

    /// <summary>What <see cref="Problems"/> writes (and the framework's problems after <see cref="ProblemTypes.Customize"/>).</summary>
    private static OpenApiSchema Problem() => new()
    {
        Type = JsonSchemaType.Object,
        Description = "An RFC 9457 problem. Other members may appear (the framework adds `traceId`).",
        Required = new HashSet<string> { "type", "title", "status" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Description = "Stable: validation, not-found, endpoint-exists, endpoint-disabled, payload-too-large, idempotency-conflict, " +
                    "unauthorized, forbidden, conflict, method-not-allowed, unsupported-media-type, service-unavailable, internal.",
            },
            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" },
            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["instance"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["errors"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "`validation` only: each field that needs fixing (`$` is the body itself, `messages[2].target` a batch item's field), with its messages.",
                AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
            },
            ["endpointId"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Format = "uuid",
                Description = "`endpoint-exists`: the endpoint that has the token; `endpoint-disabled`: the disabled endpoint.",
            },
            ["disabledReason"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String | JsonSchemaType.Null,
                Description = "`endpoint-disabled`: why the endpoint is disabled.",
            },
        },
    };
}
