using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PushGateway.Cli;

namespace PushGateway.IntegrationTests.Cli;

/// <summary>What one in-process run of the CLI printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Out, string Err)
{
    public JsonNode Json() => JsonNode.Parse(Out) ?? throw new InvalidOperationException("stdout was JSON null");

    /// <summary>The value of a <c>key: value</c> line of the human view.</summary>
    public string Value(string key)
    {
        var match = Regex.Match(Out, $"^{Regex.Escape(key)}:\\s+(.*)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"no '{key}:' line in:\n{Out}");
        return match.Groups[1].Value.Trim();
    }

    /// <summary>The table rows (every line after the header).</summary>
    public IReadOnlyList<string> Rows() => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}--- stderr\n{Err}";
}

/// <summary>Runs <c>pushgateway</c> in-process, isolated from the machine's PUSHGATEWAY_* variables and working directory.</summary>
public static class CliRunner
{
    public static CliEnvironment Isolated(IDictionary<string, string>? variables = null, string? directory = null, int pageSize = 1000) => new()
    {
        GetVariable = name => variables is not null && variables.TryGetValue(name, out var value) ? value : null,
        // A directory that does not exist: no admin key file is found unless a test puts one there.
        CurrentDirectory = directory ?? Path.Combine(Path.GetTempPath(), "pgcli-" + Guid.NewGuid().ToString("N")),
        PageSize = pageSize,
        PollInterval = TimeSpan.FromMilliseconds(50),
    };

    public static async Task<CliResult> RunAsync(IEnumerable<string> args, CancellationToken cancellationToken,
        CliEnvironment? environment = null, HttpMessageHandler? handler = null)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await PushGatewayCli.RunAsync(args.ToArray(), stdout, stderr, environment ?? Isolated(), handler, cancellationToken);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs a command against <paramref name="gateway"/> with <paramref name="key"/>.</summary>
    public static Task<CliResult> RunAsync(Uri gateway, string key, CancellationToken cancellationToken, params string[] args) =>
        RunAsync(["--url", gateway.ToString(), "--key", key, .. args], cancellationToken);
}

/// <summary>Counts the requests the CLI makes (and can stand in for the gateway).</summary>
public sealed class RecordingHandler(Func<HttpRequestMessage, HttpResponseMessage>? respond = null) : DelegatingHandler
{
    private readonly List<string> _requests = [];

    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_requests)
            {
                return _requests.ToList();
            }
        }
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        lock (_requests)
        {
            _requests.Add($"{request.Method} {request.RequestUri!.PathAndQuery}");
        }

        return respond is null ? base.SendAsync(request, cancellationToken) : Task.FromResult(respond(request));
    }
}
