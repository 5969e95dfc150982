using System.Diagnostics;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.ClientTests;

public sealed record ToolResult(int ExitCode, string Output);

/// <summary>The repository, the command-line tools the tests drive (dotnet kiota, npx), and the gateway's document.</summary>
public static class Tools
{
    /// <summary>Where a generated client's default base address points: the gateway's own default (see README).</summary>
    public const string DocumentServer = "http://127.0.0.1:8080";

    public static string RepositoryRoot { get; } = FindRoot();

    public static string GeneratedDirectory => Path.Combine(RepositoryRoot, "tests", "PushGateway.ClientTests", "Generated");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PushGateway.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("PushGateway.sln not found above " + AppContext.BaseDirectory);
    }

    public static bool OnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Any(dir => dir.Length > 0 && File.Exists(Path.Combine(dir, command)));

    /// <summary>
    /// The running gateway's /openapi/v1.json as written to <paramref name="path"/>. The server entry (the test's
    /// random port) is set to <see cref="DocumentServer"/> so that what is generated from it does not depend on the run.
    /// </summary>
    public static async Task<JsonObject> SaveDocumentAsync(TestGateway gateway, string path, CancellationToken cancellationToken)
    {
        using var client = gateway.Client();
        var text = await client.GetStringAsync("openapi/v1.json", cancellationToken);
        var document = JsonNode.Parse(text)!.AsObject();
        document["servers"] = new JsonArray(new JsonObject { ["url"] = DocumentServer });
        await File.WriteAllTextAsync(path, document.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }), cancellationToken);
        return document;
    }

    public static async Task<ToolResult> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Kiota: no update check, tips or telemetry (CI reaches package registries only).
        start.Environment["KIOTA_OFFLINE_ENABLED"] = "true";
        start.Environment["KIOTA_TUTORIAL_ENABLED"] = "false";
        start.Environment["KIOTA_CLI_TELEMETRY_OPTOUT"] = "true";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["NO_UPDATE_NOTIFIER"] = "1";
        start.Environment["REDOCLY_TELEMETRY"] = "off";
        start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', start.ArgumentList)} did not finish within {timeout}.");
        }

        return new ToolResult(process.ExitCode, await output + await error);
    }
}
