using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.ClientTests;

/// <summary>Redocly's recommended rules (redocly.yaml) on the document the running gateway serves: no errors.</summary>
public sealed class OpenApiLintTests(TestGateway gateway) : IClassFixture<TestGateway>
{
    /// <summary>Pinned: a new Redocly release can add rules; take it on purpose.</summary>
    public const string RedoclyCli = "@redocly/cli@2.77.0";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OpenApiDocument_PassesRedoclysRecommendedRules()
    {
        if (!Tools.OnPath("npx"))
        {
            Assert.Skip("Node.js (npx) is not installed: the Redocly lint of /openapi/v1.json did not run. .ci/run installs it.");
        }

        var work = Directory.CreateTempSubdirectory("pushgateway-lint-");
        try
        {
            var document = Path.Combine(work.FullName, "openapi.json");
            await Tools.SaveDocumentAsync(gateway, document, Ct);
            var lint = await Tools.RunAsync("npx",
                ["--yes", RedoclyCli, "lint", document, "--config", Path.Combine(Tools.RepositoryRoot, "redocly.yaml"), "--format", "stylish"],
                TimeSpan.FromMinutes(5), Ct);
            Assert.True(lint.ExitCode == 0, $"Redocly lint reports errors in /openapi/v1.json (exit {lint.ExitCode}):\n{lint.Output}");
            Assert.Contains("Your API description is valid", lint.Output, StringComparison.Ordinal);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
