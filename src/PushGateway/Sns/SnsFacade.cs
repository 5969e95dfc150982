using Microsoft.AspNetCore.WebUtilities;
using PushGateway.Data;
using PushGateway.Hosting;

namespace PushGateway.Sns;

/// <summary>
/// The SNS-compatible API at <c>/sns</c> (and <c>/sns/</c>): AWS Query protocol over form POST or GET, SigV4 with
/// the project's SNS access keys, XML answers. Authentication comes first and is complete before a parameter is
/// read, so a request that fails it changes nothing. Every answer carries <c>x-amzn-RequestId</c>.
/// </summary>
internal static partial class SnsFacade
{
    public const string Path = "/sns";
    private const int MaxBodyBytes = 1024 * 1024;

    public static void MapSns(this IEndpointRouteBuilder routes)
    {
        // Not under /v1: the API key middleware leaves it alone; SigV4 is this route's authentication. Routing matches
        // "/sns/" to this template too (a second template for it would be ambiguous).
        routes.MapMethods(Path, [HttpMethods.Get, HttpMethods.Post], HandleAsync).ExcludeFromDescription();
    }

    private static async Task HandleAsync(HttpContext http)
    {
        var requestId = Guid.NewGuid().ToString();
        http.Response.Headers["x-amzn-RequestId"] = requestId;
        var cancellationToken = http.RequestAborted;
        var services = http.RequestServices;
        byte[] response;
        try
        {
            var body = await ReadBodyAsync(http.Request, cancellationToken);
            var db = services.GetRequiredService<PushGatewayDbContext>();
            var secrets = services.GetRequiredService<SecretBox>();
            var request = http.Request;
            var signed = await SigV4Verifier.VerifyAsync(
                new SignedRequest(request.Method, request.PathBase.Add(request.Path).Value ?? "/", request.QueryString.Value,
                    name => request.Headers[name].Select(v => v ?? "").ToList(), body),
                services.GetRequiredService<TimeProvider>().GetUtcNow(),
                key => SnsCredentials.FindAsync(db, secrets, key, cancellationToken));

            var parameters = ReadParameters(request, body);
            var action = parameters.Get("Action");
            if (string.IsNullOrEmpty(action))
            {
                throw new SnsException(400, "MissingAction", "The request must contain the parameter Action.");
            }

            var context = new SnsContext(signed.Caller.ProjectId, signed.Caller.AccessKeyId, signed.Region, action, requestId);
            response = await SnsActions.RunAsync(context, parameters, services, cancellationToken);
        }
        catch (SnsException error)
        {
            if (error.RetryAfterSeconds is { } retryAfter)
            {
                http.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            await WriteAsync(http, error.Status, SnsXml.Error(error, requestId));
            return;
        }
        catch (Exception ex) when (GatewayApp.IsDatabaseUnavailable(ex) && !cancellationToken.IsCancellationRequested)
        {
            await WriteAsync(http, 503, SnsXml.Error(new SnsException(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."), requestId));
            return;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Failed(services.GetRequiredService<ILoggerFactory>().CreateLogger("PushGateway.Sns"), ex, requestId);
            await WriteAsync(http, 500, SnsXml.Error(new SnsException(500, "InternalFailure",
                "The request processing has failed because of an unknown error, exception or failure."), requestId));
            return;
        }

        await WriteAsync(http, 200, response);
    }

    private static async Task WriteAsync(HttpContext http, int status, byte[] xml)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/xml";
        http.Response.ContentLength = xml.Length;
        await http.Response.Body.WriteAsync(xml, http.RequestAborted);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            throw new SnsException(413, "RequestEntityTooLarge", $"Request bodies are limited to {MaxBodyBytes} bytes.");
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > MaxBodyBytes)
                {
                    throw new SnsException(413, "RequestEntityTooLarge", $"Request bodies are limited to {MaxBodyBytes} bytes.");
                }
            }
        }
        catch (BadHttpRequestException)
        {
            throw new SnsException(413, "RequestEntityTooLarge", $"Request bodies are limited to {MaxBodyBytes} bytes.");
        }

        return buffer.ToArray();
    }

    /// <summary>The query string's parameters, then the form body's (which win): SDKs POST a form, the docs show GET.</summary>
    private static QueryParameters ReadParameters(HttpRequest request, byte[] body)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in QueryHelpers.ParseQuery(request.QueryString.Value))
        {
            values[key] = value.ToString();
        }

        var mediaType = request.ContentType?.Split(';')[0].Trim();
        if (body.Length > 0 && (mediaType is null or "" || string.Equals(mediaType, "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)))
        {
            string text;
            try
            {
                text = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body);
            }
            catch (System.Text.DecoderFallbackException)
            {
                throw new SnsException(400, "MalformedQueryString", "The request body is not UTF-8.");
            }

            foreach (var (key, value) in QueryHelpers.ParseQuery(text))
            {
                values[key] = value.ToString();
            }
        }
        else if (body.Length > 0)
        {
            throw new SnsException(400, "InvalidParameterValue", "The body must be application/x-www-form-urlencoded (AWS Query protocol).");
        }

        return new QueryParameters(values);
    }

    [LoggerMessage(EventId = 8001, Level = LogLevel.Error, Message = "SNS request {RequestId} failed")]
    private static partial void Failed(ILogger logger, Exception exception, string requestId);
}
