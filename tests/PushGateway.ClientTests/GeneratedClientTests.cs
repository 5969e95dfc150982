using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.ClientTests;

/// <summary>
/// The client in Generated/ is what Kiota makes of the running gateway's document, unedited: regenerate it and
/// compare. With PUSHGATEWAY_UPDATE_CLIENT=1 the test writes the regenerated client over Generated/ instead.
/// </summary>
public sealed class GeneratedClientTests(TestGateway gateway) : IClassFixture<TestGateway>
{
    private const string UpdateVariable = "PUSHGATEWAY_UPDATE_CLIENT";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The one generate command (README: "Generating a client"); the test and a developer run the same.</summary>
    public static string[] KiotaArguments(string document, string output) =>
        ["kiota", "generate", "--language", "CSharp", "--openapi", document, "--output", output,
            "--class-name", "PushGatewayClient", "--namespace-name", "PushGateway.Client", "--clean-output", "--log-level", "Warning"];

    [Fact]
    public async Task GeneratedClient_IsWhatKiotaMakesOfTheRunningGatewaysDocument()
    {
        var work = Directory.CreateTempSubdirectory("pushgateway-client-");
        try
        {
            var document = Path.Combine(work.FullName, "openapi.json");
            await Tools.SaveDocumentAsync(gateway, document, Ct);
            var restore = await Tools.RunAsync("dotnet", ["tool", "restore"], TimeSpan.FromMinutes(5), Ct);
            Assert.True(restore.ExitCode == 0, "dotnet tool restore failed:\n" + restore.Output);

            var output = Path.Combine(work.FullName, "Generated");
            var generate = await Tools.RunAsync("dotnet", KiotaArguments(document, output), TimeSpan.FromMinutes(5), Ct);
            Assert.True(generate.ExitCode == 0, "kiota generate failed:\n" + generate.Output);
            // The lock file records where the document was read from (a temporary path): not part of the client.
            File.Delete(Path.Combine(output, "kiota-lock.json"));

            if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
            {
                ReplaceDirectory(output, Tools.GeneratedDirectory);
                return;
            }

            var differences = Compare(output, Tools.GeneratedDirectory);
            Assert.True(differences.Count == 0,
                $"tests/PushGateway.ClientTests/Generated is not what Kiota generates from the gateway's current /openapi/v1.json " +
                $"({differences.Count} file(s): {string.Join(", ", differences.Take(20))}). The API description changed: regenerate with " +
                $"`{UpdateVariable}=1 dotnet test tests/PushGateway.ClientTests --filter GeneratedClient_IsWhatKiotaMakes` and commit Generated/ (never edit it by hand).");
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>Relative paths that are missing on one side or differ in content.</summary>
    private static List<string> Compare(string expectedRoot, string actualRoot)
    {
        var expected = Files(expectedRoot);
        var actual = Files(actualRoot);
        var differences = expected.Keys.Union(actual.Keys).Where(path =>
            !expected.TryGetValue(path, out var e) || !actual.TryGetValue(path, out var a) || e != a).ToList();
        differences.Sort(StringComparer.Ordinal);
        return differences;
    }

    private static Dictionary<string, string> Files(string root) =>
        !Directory.Exists(root)
            ? []
            : Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .ToDictionary(f => Path.GetRelativePath(root, f).Replace('\\', '/'), f => File.ReadAllText(f).ReplaceLineEndings("\n"), StringComparer.Ordinal);

    private static void ReplaceDirectory(string source, string target)
    {
        if (Directory.Exists(target))
        {
            Directory.Delete(target, recursive: true);
        }

        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }
}
