using Microsoft.AspNetCore.Mvc;

namespace PushGateway.Hosting;

/// <summary>
/// RFC 9457 problem responses with the contract's stable <c>type</c> values. Every 4xx/5xx the gateway writes
/// goes through here or through the ProblemDetails service customised in <see cref="ProblemTypes.Customize"/>.
/// </summary>
internal static class Problems
{
    public static IResult Validation(IDictionary<string, string[]> errors, string? detail = null) =>
        TypedResults.Problem(ValidationDetails(errors, detail));

    public static IResult Validation(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });

    public static IResult NotFound(string detail) =>
        Problem(StatusCodes.Status404NotFound, ProblemTypes.NotFound, "Not found.", detail);

    public static IResult Unauthorized(string detail) =>
        Problem(StatusCodes.Status401Unauthorized, ProblemTypes.Unauthorized, "Missing or invalid API key.", detail);

    public static IResult Forbidden(string detail) =>
        Problem(StatusCodes.Status403Forbidden, ProblemTypes.Forbidden, "This key may not use this route.", detail);

    public static IResult PayloadTooLarge(string detail) =>
        Problem(StatusCodes.Status413PayloadTooLarge, ProblemTypes.PayloadTooLarge, "Payload too large.", detail);

    public static IResult EndpointExists(Guid existingId) =>
        Problem(StatusCodes.Status409Conflict, ProblemTypes.EndpointExists, "Endpoint already exists.",
            $"Endpoint {existingId} already exists with the same token, but different attributes.",
            new Dictionary<string, object?> { ["endpointId"] = existingId });

    public static IResult EndpointDisabled(Guid endpointId, string? reason) =>
        Problem(StatusCodes.Status409Conflict, ProblemTypes.EndpointDisabled, "Endpoint is disabled.",
            $"Endpoint {endpointId} is disabled{(reason is null ? "" : $" ({reason})")}; register a current token to enable it.",
            new Dictionary<string, object?> { ["endpointId"] = endpointId, ["disabledReason"] = reason });

    public static IResult Conflict(string detail) =>
        Problem(StatusCodes.Status409Conflict, ProblemTypes.Conflict, "Conflict.", detail);

    public static IResult IdempotencyConflict(string detail) =>
        Problem(StatusCodes.Status422UnprocessableEntity, ProblemTypes.IdempotencyConflict, "Idempotency key reused.", detail);

    /// <summary>429: a send quota is used up; the caller sets <c>Retry-After</c> too (the body repeats it).</summary>
    public static IResult TooManyRequests(string detail, int retryAfterSeconds) =>
        Problem(StatusCodes.Status429TooManyRequests, ProblemTypes.RateLimited, "Send quota exceeded.", detail,
            new Dictionary<string, object?> { ["retryAfter"] = retryAfterSeconds });

    public static IResult Problem(int status, string type, string title, string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(Details(status, type, title, detail, extensions));

    /// <summary>The problem object itself, for places that embed problems (the batch route's items).</summary>
    public static ProblemDetails Details(int status, string type, string title, string detail, IDictionary<string, object?>? extensions = null)
    {
        var problem = new ProblemDetails { Status = status, Type = type, Title = title, Detail = detail };
        if (extensions is not null)
        {
            foreach (var (key, value) in extensions)
            {
                problem.Extensions[key] = value;
            }
        }

        return problem;
    }

    public static HttpValidationProblemDetails ValidationDetails(IDictionary<string, string[]> errors, string? detail = null) =>
        new(errors)
        {
            Status = StatusCodes.Status400BadRequest,
            Type = ProblemTypes.Validation,
            Title = "The request is not valid.",
            Detail = detail ?? "See errors for the fields that need fixing.",
        };
}

internal static class ProblemTypes
{
    public const string Validation = "validation";
    public const string NotFound = "not-found";
    public const string EndpointExists = "endpoint-exists";
    public const string EndpointDisabled = "endpoint-disabled";
    public const string PayloadTooLarge = "payload-too-large";
    public const string UriTooLong = "uri-too-long";
    public const string HeadersTooLarge = "headers-too-large";
    public const string IdempotencyConflict = "idempotency-conflict";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string RateLimited = "rate-limited";
    public const string Conflict = "conflict";
    public const string MethodNotAllowed = "method-not-allowed";
    public const string UnsupportedMediaType = "unsupported-media-type";
    public const string ServiceUnavailable = "service-unavailable";
    public const string Internal = "internal";

    public static string ForStatus(int status) => status switch
    {
        400 => Validation,
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        409 => Conflict,
        413 => PayloadTooLarge,
        414 => UriTooLong,
        415 => UnsupportedMediaType,
        431 => HeadersTooLarge,
        422 => IdempotencyConflict,
        429 => RateLimited,
        503 => ServiceUnavailable,
        _ => status >= 500 ? Internal : "error",
    };

    /// <summary>Gives framework-written problems (404 for an unknown route, 405, exceptions) the contract's types.</summary>
    public static void Customize(ProblemDetailsContext context)
    {
        var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
        if (context.ProblemDetails.Type is null || context.ProblemDetails.Type.StartsWith("https://tools.ietf.org/", StringComparison.Ordinal))
        {
            context.ProblemDetails.Type = ForStatus(status);
        }

        // Never leak exception text to clients.
        context.ProblemDetails.Extensions.Remove("exception");
        if (status >= 500)
        {
            context.ProblemDetails.Detail ??= "The gateway could not complete the request; it has been logged.";
        }
    }
}
