using System.CommandLine;
using System.Text.Json.Nodes;

namespace PushGateway.Cli;

/// <summary>The global options, resolved once per command: where the gateway is, which key, which output.</summary>
internal sealed class GlobalOptions
{
    public const string UrlVariable = "PUSHGATEWAY_URL";
    public const string KeyVariable = "PUSHGATEWAY_KEY";
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>Where local mode keeps the admin key, relative to the directory the gateway was started in.</summary>
    public static readonly string[] AdminKeyFiles =
    [
        Path.Combine(".pushgateway", "admin-key"),
        Path.Combine("src", "PushGateway", ".pushgateway", "admin-key"),
    ];

    public Option<string> Url { get; } = new("--url")
    {
        Description = $"Gateway base URL [env: {UrlVariable}] [default: {DefaultUrl}]",
        HelpName = "url",
        Recursive = true,
    };

    public Option<string> Key { get; } = new("--key")
    {
        Description = $"Bearer key: the admin key for project/apikey commands, a project API key for the rest [env: {KeyVariable}]. " +
            "With a local --url and no key, the local-mode admin key file is used.",
        HelpName = "key",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print the JSON response instead of the human view.",
        Recursive = true,
    };
}

/// <summary>One command being carried out: the client, the writers and the parsed command line.</summary>
internal sealed class Invocation(GatewayClient client, TextWriter output, TextWriter error, bool json, CliEnvironment environment, ParseResult parse)
{
    public GatewayClient Client { get; } = client;
    public TextWriter Out { get; } = output;
    public TextWriter Err { get; } = error;
    public bool Json { get; } = json;
    public CliEnvironment Environment { get; } = environment;
    public ParseResult Parse { get; } = parse;

    public T Get<T>(Option<T> option) => Parse.GetValue(option)!;

    public T Get<T>(Argument<T> argument) => Parse.GetValue(argument)!;

    /// <summary>Prints the response as JSON with <c>--json</c>, else through <paramref name="human"/>.</summary>
    public void Print(JsonNode? response, Action<JsonNode> human)
    {
        if (Json)
        {
            Render.Json(Out, response);
        }
        else if (response is not null)
        {
            human(response);
        }
    }
}

/// <summary>Resolves the global options and turns every expected failure into its exit code and a message on stderr.</summary>
internal sealed class CliHost(TextWriter stdout, TextWriter stderr, CliEnvironment environment, HttpMessageHandler? handler)
{
    public GlobalOptions Globals { get; } = new();

    public void SetAction(Command command, Func<Invocation, CancellationToken, Task<int>> action) =>
        command.SetAction((parse, cancellationToken) => RunAsync(parse, action, cancellationToken));

    private async Task<int> RunAsync(ParseResult parse, Func<Invocation, CancellationToken, Task<int>> action, CancellationToken cancellationToken)
    {
        Uri? url = null;
        var keyFromFile = false;
        try
        {
            url = ResolveUrl(parse);
            (var key, keyFromFile) = ResolveKey(parse, url);
            using var client = new GatewayClient(url, key, handler, environment.PageSize);
            return await action(new Invocation(client, stdout, stderr, parse.GetValue(Globals.Json), environment, parse), cancellationToken);
        }
        catch (UsageException ex)
        {
            await stderr.WriteLineAsync($"error: {ex.Message}");
            return ExitCodes.Usage;
        }
        catch (GatewayProblemException ex)
        {
            await WriteProblemAsync(ex, keyFromFile);
            return ex.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("error: interrupted.");
            return ExitCodes.Interrupted;
        }
        catch (TaskCanceledException)
        {
            // HttpClient.Timeout surfaces as a cancellation that nobody asked for.
            await stderr.WriteLineAsync($"error: the gateway at {Display(url)} did not answer in time.");
            return ExitCodes.GatewayUnavailable;
        }
        catch (HttpRequestException ex)
        {
            await stderr.WriteLineAsync($"error: cannot reach the gateway at {Display(url)}: {ex.Message}");
            await stderr.WriteLineAsync($"Is it running? Point the CLI at it with --url or {GlobalOptions.UrlVariable}.");
            return ExitCodes.GatewayUnavailable;
        }
        catch (UnexpectedResponseException ex)
        {
            await stderr.WriteLineAsync($"error: {ex.Message}");
            return ExitCodes.GatewayUnavailable;
        }
    }

    private Uri ResolveUrl(ParseResult parse)
    {
        var text = parse.GetValue(Globals.Url) ?? NonEmpty(environment.GetVariable(GlobalOptions.UrlVariable)) ?? GlobalOptions.DefaultUrl;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(url.Query))
        {
            throw new UsageException($"'{text}' is not a gateway URL: give an absolute http(s) URL such as {GlobalOptions.DefaultUrl}.");
        }

        // Relative request paths ("v1/…") keep a path prefix such as https://host/push/ behind a reverse proxy.
        return url.AbsolutePath.EndsWith('/') ? url : new Uri(url + "/");
    }

    private (string Key, bool FromFile) ResolveKey(ParseResult parse, Uri url)
    {
        if ((NonEmpty(parse.GetValue(Globals.Key)) ?? NonEmpty(environment.GetVariable(GlobalOptions.KeyVariable))) is { } key)
        {
            return (key.Trim(), false);
        }

        if (url.IsLoopback)
        {
            foreach (var relative in GlobalOptions.AdminKeyFiles)
            {
                var path = Path.Combine(environment.CurrentDirectory, relative);
                if (File.Exists(path) && NonEmpty(File.ReadAllText(path).Trim()) is { } fileKey)
                {
                    stderr.WriteLine($"note: no --key or {GlobalOptions.KeyVariable}; using the local admin key from {relative}.");
                    return (fileKey, true);
                }
            }
        }

        throw new UsageException(
            $"no key: pass --key or set {GlobalOptions.KeyVariable} (the admin key for project/apikey commands, a project API key for the rest)." +
            (url.IsLoopback ? $" No local admin key file was found either ({string.Join(", ", GlobalOptions.AdminKeyFiles)})." : ""));
    }

    private async Task WriteProblemAsync(GatewayProblemException ex, bool keyFromFile)
    {
        var status = (int)ex.Status;
        var problem = ex.Problem;
        var title = Render.Text(problem?["title"]) ?? ex.ReasonPhrase ?? "Request failed.";
        var type = Render.Text(problem?["type"]);
        await stderr.WriteLineAsync($"error: {title} (HTTP {status}{(type is null ? "" : ", " + type)})");
        if (Render.Text(problem?["detail"]) is { } detail)
        {
            await stderr.WriteLineAsync("  " + detail);
        }

        if (problem?["errors"] is JsonObject errors)
        {
            foreach (var (field, messages) in errors)
            {
                var list = messages is JsonArray array ? array.Select(Render.Text) : [Render.Text(messages)];
                foreach (var message in list)
                {
                    await stderr.WriteLineAsync($"  {field}: {message}");
                }
            }
        }

        if (problem is not null)
        {
            // Extensions such as endpointId (endpoint-exists) help the next step; traceId only matters for finding a
            // server error in the gateway's log.
            foreach (var (name, value) in problem)
            {
                if (name is not ("type" or "title" or "status" or "detail" or "instance" or "errors") && value is JsonValue
                    && (name != "traceId" || status >= 500))
                {
                    await stderr.WriteLineAsync($"  {name}: {Render.Text(value)}");
                }
            }
        }
        else if (ex.Body.Length > 0)
        {
            await stderr.WriteLineAsync("  " + (ex.Body.Length > 300 ? ex.Body[..300] + "..." : ex.Body).ReplaceLineEndings(" "));
        }

        if (status == 403 && keyFromFile)
        {
            await stderr.WriteLineAsync($"  (the local admin key was used; this command needs a project API key: --key or {GlobalOptions.KeyVariable})");
        }
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    /// <summary>The URL without any user:password part, which must not end up in a terminal log.</summary>
    private static string? Display(Uri? url) => url?.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
}
