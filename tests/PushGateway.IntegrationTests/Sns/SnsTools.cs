using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Sns;

public sealed record SnsKeys(string AccessKeyId, string SecretAccessKey, string AccountId);

public sealed record ToolResult(int ExitCode, string Stdout, string Stderr)
{
    public JsonObject Json() => JsonNode.Parse(Stdout)!.AsObject();
}

/// <summary>Real AWS clients pointed at a test gateway's /sns: the AWS CLI v2 and the AWS SDK for JavaScript v3.</summary>
public static class SnsTools
{
    public const string Region = "us-east-1";

    /// <summary>The AWS sample code's pattern for recovering the existing endpoint from the conflict message.</summary>
    public const string ConflictPattern = ".*Endpoint (arn:aws:sns[^ ]+) already exists with the same [Tt]oken.*";

    public static async Task<SnsKeys> CreateKeysAsync(HttpClient client, Guid projectId, CancellationToken cancellationToken)
    {
        var response = await client.PostAsJsonAsync($"v1/projects/{projectId}/sns-credentials", new { name = "tests" }, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        var body = JsonNode.Parse(text)!;
        return new SnsKeys(body["accessKeyId"]!.GetValue<string>(), body["secretAccessKey"]!.GetValue<string>(), body["accountId"]!.GetValue<string>());
    }

    public static string EndpointUrl(TestGateway gateway) => new Uri(gateway.BaseAddress, "sns").ToString();

    /// <summary>
    /// The AWS CLI v2: <c>PUSHGATEWAY_AWS_CLI</c>, else Debian's <c>/usr/bin/aws</c> (package awscli, which .ci/run
    /// installs). A v1 CLI earlier on PATH (pyenv shims) is not what these tests are about, so the version is checked.
    /// </summary>
    public static string AwsCliPath()
    {
        var path = Environment.GetEnvironmentVariable("PUSHGATEWAY_AWS_CLI") ?? "/usr/bin/aws";
        Assert.True(File.Exists(path), $"AWS CLI v2 not found at {path}: apt-get install awscli (.ci/run does), or set PUSHGATEWAY_AWS_CLI.");
        return path;
    }

    public static async Task<ToolResult> AwsAsync(TestGateway gateway, SnsKeys keys, CancellationToken cancellationToken, params string[] args)
    {
        var start = new ProcessStartInfo(AwsCliPath())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--endpoint-url", EndpointUrl(gateway), "--region", Region, "--output", "json", "--no-cli-pager" }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        var home = Path.Combine(Path.GetTempPath(), "pg-awscli-home");
        Directory.CreateDirectory(home);
        start.Environment["HOME"] = home;
        start.Environment["AWS_ACCESS_KEY_ID"] = keys.AccessKeyId;
        start.Environment["AWS_SECRET_ACCESS_KEY"] = keys.SecretAccessKey;
        start.Environment["AWS_CONFIG_FILE"] = Path.Combine(home, "none");
        start.Environment["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(home, "none");
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        start.Environment["AWS_MAX_ATTEMPTS"] = "1";
        start.Environment.Remove("AWS_SESSION_TOKEN");
        start.Environment.Remove("AWS_PROFILE");
        return await RunAsync(start, cancellationToken);
    }

    public static async Task<string> AwsVersionAsync(CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(AwsCliPath(), "--version") { RedirectStandardOutput = true, RedirectStandardError = true };
        var result = await RunAsync(start, cancellationToken);
        return (result.Stdout + result.Stderr).Trim();
    }

    /// <summary>The directory of the JavaScript SDK script (its package.json and lockfile; .ci/run runs npm ci there).</summary>
    public static string ScriptDirectory()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "PushGateway.sln")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        var scripts = Path.Combine(dir.FullName, "tests", "PushGateway.IntegrationTests", "Sns", "js");
        Assert.True(Directory.Exists(Path.Combine(scripts, "node_modules", "@aws-sdk", "client-sns")),
            $"@aws-sdk/client-sns is not installed: run npm ci in {scripts} (.ci/run does).");
        return scripts;
    }

    /// <summary>Runs a script of the js folder with node; its input is environment variables, its answer one JSON object on stdout.</summary>
    public static async Task<ToolResult> NodeAsync(string script, IDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        var directory = ScriptDirectory();
        var start = new ProcessStartInfo("node", script)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return await RunAsync(start, cancellationToken);
    }

    private static async Task<ToolResult> RunAsync(ProcessStartInfo start, CancellationToken cancellationToken)
    {
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new ToolResult(process.ExitCode, await stdout, await stderr);
    }
}
