using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PushGateway.Cli;

/// <summary>Bad usage found after parsing (no key, a URL that is not http(s), …): exit 64.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>The gateway answered with a non-2xx status; <see cref="Problem"/> is its problem+json body when it had one.</summary>
internal sealed class GatewayProblemException(HttpStatusCode status, string? reasonPhrase, JsonObject? problem, string body)
    : Exception($"The gateway answered {(int)status} {reasonPhrase}.")
{
    public HttpStatusCode Status { get; } = status;
    public string? ReasonPhrase { get; } = reasonPhrase;
    public JsonObject? Problem { get; } = problem;
    public string Body { get; } = body;

    public int ExitCode => (int)Status is >= 400 and < 500 ? ExitCodes.RequestRejected : ExitCodes.GatewayUnavailable;

    public static GatewayProblemException From(HttpStatusCode status, string? reasonPhrase, string body)
    {
        JsonObject? problem = null;
        try
        {
            problem = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            // Not JSON: a proxy's HTML page, say. The status and a snippet of the body are all there is to show.
        }

        return new GatewayProblemException(status, reasonPhrase, problem, body);
    }
}

/// <summary>A 2xx answer that is not the JSON the API promises (wrong URL, a proxy in the way): exit 2.</summary>
internal sealed class UnexpectedResponseException(string message) : Exception(message);
