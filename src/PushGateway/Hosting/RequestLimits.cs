using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace PushGateway.Hosting;

/// <summary>
/// Kestrel answers a request line or headers over its limits (414, 431) itself, before any middleware runs, with an
/// empty body. So Kestrel's own limits are set to twice the ones we mean, and this middleware enforces the ones we
/// mean with a problem body; only a request past Kestrel's doubled limits (or one it cannot parse at all) still gets
/// Kestrel's bare answer. Oversize bodies (413) and malformed ones are answered with problems where they are read
/// (<see cref="JsonBody"/> and the exception handler).
/// </summary>
internal static class RequestLimits
{
    /// <summary>Kestrel's default request-line limit: the request target may not be longer.</summary>
    public const int MaxTargetBytes = 8 * 1024;

    /// <summary>Kestrel's default total header size.</summary>
    public const int MaxHeaderBytes = 32 * 1024;

    public static void Configure(KestrelServerOptions kestrel)
    {
        kestrel.Limits.MaxRequestBodySize = JsonBody.MaxBytes;
        kestrel.Limits.MaxRequestLineSize = 2 * MaxTargetBytes;
        kestrel.Limits.MaxRequestHeadersTotalSize = 2 * MaxHeaderBytes;
    }

    public static IApplicationBuilder UseRequestLimits(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        if (target.Length > MaxTargetBytes)
        {
            await WriteAsync(context, StatusCodes.Status414UriTooLong, ProblemTypes.UriTooLong, "The request target is too long.",
                $"The path and query string may be at most {MaxTargetBytes} bytes.");
            return;
        }

        if (HeaderBytes(context.Request.Headers) > MaxHeaderBytes)
        {
            await WriteAsync(context, StatusCodes.Status431RequestHeaderFieldsTooLarge, ProblemTypes.HeadersTooLarge, "The request headers are too large.",
                $"The request headers may be at most {MaxHeaderBytes} bytes in all.");
            return;
        }

        await next(context);
    });

    private static long HeaderBytes(IHeaderDictionary headers)
    {
        long total = 0;
        foreach (var (name, values) in headers)
        {
            foreach (var value in values)
            {
                // Name, ": ", value, CRLF: as Kestrel counts them on HTTP/1.1.
                total += name.Length + (value?.Length ?? 0) + 4;
            }
        }

        return total;
    }

    private static Task WriteAsync(HttpContext context, int status, string type, string title, string detail)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.Connection = "close";
        return Results.Problem(Problems.Details(status, type, title, detail)).ExecuteAsync(context);
    }
}
