using System.Net;
using System.Text.RegularExpressions;
using PushGateway.Cli;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Cli;

/// <summary>The admin commands (project, apikey) and key resolution, against a real gateway.</summary>
public sealed partial class CliAdminTests(TestGateway gateway) : IClassFixture<TestGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<CliResult> Admin(params string[] args) => CliRunner.RunAsync(gateway.BaseAddress, TestGateway.AdminKey, Ct, args);

    [GeneratedRegex("pgk_[A-Za-z0-9_-]{20,}")]
    private static partial Regex ApiKeyPattern();

    [Fact]
    public async Task ProjectAndApiKey_CreatedAndRevoked_KeyIsPrintedOnceWorksThenGets401()
    {
        var created = await Admin("project", "create", "--name", "ops-demo");
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Equal("ops-demo", created.Value("name"));
        var projectId = Guid.Parse(created.Value("id"));

        var shown = await Admin("project", "show", projectId.ToString());
        Assert.Equal(0, shown.ExitCode);
        Assert.Equal(projectId.ToString(), shown.Value("id"));
        Assert.Equal("ops-demo", shown.Value("name"));

        var listed = await Admin("project", "list");
        Assert.Contains(listed.Rows(), r => r.StartsWith(projectId.ToString(), StringComparison.Ordinal) && r.Contains("ops-demo", StringComparison.Ordinal));

        var keyRun = await Admin("apikey", "create", "--project", projectId.ToString(), "--name", "ci");
        Assert.True(keyRun.ExitCode == 0, keyRun.ToString());
        Assert.Contains("only time the key is shown", keyRun.Err, StringComparison.Ordinal);
        var key = Assert.Single(ApiKeyPattern().Matches(keyRun.Out)).Value;
        Assert.Equal(key, keyRun.Value("key"));
        Assert.DoesNotContain(key, keyRun.Err, StringComparison.Ordinal);
        var keyId = Guid.Parse(keyRun.Value("id"));

        // The printed key is a working project key, for the API and for the CLI's project commands.
        using (var client = gateway.Client(key))
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v1/applications", Ct)).StatusCode);
        }

        var apps = await CliRunner.RunAsync(gateway.BaseAddress, key, Ct, "app", "list");
        Assert.True(apps.ExitCode == 0, apps.ToString());
        Assert.Equal("No applications.", apps.Out.Trim());

        // Listing keys never shows a key again.
        var keys = await Admin("apikey", "list", "--project", projectId.ToString());
        Assert.Equal(0, keys.ExitCode);
        var row = Assert.Single(keys.Rows());
        Assert.StartsWith(keyId.ToString(), row, StringComparison.Ordinal);
        Assert.Contains(key[..12], row, StringComparison.Ordinal);
        Assert.DoesNotContain(key, keys.Out, StringComparison.Ordinal);

        var revoked = await Admin("apikey", "revoke", "--project", projectId.ToString(), "--key-id", keyId.ToString());
        Assert.True(revoked.ExitCode == 0, revoked.ToString());
        Assert.Contains($"Revoked API key {keyId}", revoked.Out, StringComparison.Ordinal);

        using (var client = gateway.Client(key))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("v1/applications", Ct)).StatusCode);
        }

        var refused = await CliRunner.RunAsync(gateway.BaseAddress, key, Ct, "app", "list");
        Assert.Equal(ExitCodes.RequestRejected, refused.ExitCode);
        Assert.Equal("", refused.Out);
        Assert.Contains("error: Missing or invalid API key. (HTTP 401, unauthorized)", refused.Err, StringComparison.Ordinal);
        Assert.Contains("The key is unknown or revoked.", refused.Err, StringComparison.Ordinal);
        Assert.DoesNotContain(key, refused.Err, StringComparison.Ordinal);

        var again = await Admin("apikey", "revoke", "--project", projectId.ToString(), "--key-id", keyId.ToString());
        Assert.Equal(ExitCodes.RequestRejected, again.ExitCode);
        Assert.Contains("(HTTP 404, not-found)", again.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminCommands_WithJson_PrintTheResponseAsJson()
    {
        var created = await Admin("--json", "project", "create", "--name", "json-project");
        Assert.True(created.ExitCode == 0, created.ToString());
        var project = created.Json();
        Assert.Equal("json-project", project["name"]!.GetValue<string>());
        var projectId = project["id"]!.GetValue<Guid>();

        var shown = (await Admin("project", "show", projectId.ToString(), "--json")).Json();
        Assert.Equal(projectId, shown["id"]!.GetValue<Guid>());
        Assert.Contains((await Admin("--json", "project", "list")).Json()["items"]!.AsArray(), p => p!["id"]!.GetValue<Guid>() == projectId);

        var keyRun = await Admin("--json", "apikey", "create", "--project", projectId.ToString(), "--name", "ci");
        Assert.Contains("only time the key is shown", keyRun.Err, StringComparison.Ordinal);
        var key = keyRun.Json();
        Assert.StartsWith("pgk_", key["key"]!.GetValue<string>(), StringComparison.Ordinal);

        var keys = (await Admin("--json", "apikey", "list", "--project", projectId.ToString())).Json();
        Assert.Equal(key["id"]!.GetValue<Guid>(), Assert.Single(keys["items"]!.AsArray())!["id"]!.GetValue<Guid>());
        Assert.Null(keys["items"]![0]!["key"]);

        var revoked = await Admin("--json", "apikey", "revoke", "--project", projectId.ToString(), "--key-id", key["id"]!.ToString());
        Assert.Equal(0, revoked.ExitCode);
        Assert.Equal("", revoked.Out);
    }

    [Fact]
    public async Task GatewayProblems_AreTitleDetailAndErrorsOnStderr_WithExitCode1()
    {
        var missing = Guid.NewGuid();
        var notFound = await Admin("project", "show", missing.ToString());
        Assert.Equal(ExitCodes.RequestRejected, notFound.ExitCode);
        Assert.Equal("", notFound.Out);
        Assert.Contains("error: Not found. (HTTP 404, not-found)", notFound.Err, StringComparison.Ordinal);
        Assert.Contains($"Project {missing} does not exist.", notFound.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("traceId", notFound.Err, StringComparison.Ordinal);

        var invalid = await Admin("project", "create", "--name", "   ");
        Assert.Equal(ExitCodes.RequestRejected, invalid.ExitCode);
        Assert.Contains("error: The request is not valid. (HTTP 400, validation)", invalid.Err, StringComparison.Ordinal);
        Assert.Contains("  name: Must not be empty.", invalid.Err, StringComparison.Ordinal);

        // A project key on an admin route: 403, still exit 1.
        var project = await gateway.NewProjectAsync(Ct);
        var forbidden = await CliRunner.RunAsync(gateway.BaseAddress, project.Key, Ct, "project", "list");
        Assert.Equal(ExitCodes.RequestRejected, forbidden.ExitCode);
        Assert.Contains("(HTTP 403, forbidden)", forbidden.Err, StringComparison.Ordinal);
        Assert.Contains("This route needs the admin key.", forbidden.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(".pushgateway/admin-key")]
    [InlineData("src/PushGateway/.pushgateway/admin-key")]
    public async Task NoKey_LocalUrlAndAdminKeyFile_UsesTheFileAndSaysSo(string relativePath)
    {
        var directory = Directory.CreateTempSubdirectory("pgcli-").FullName;
        try
        {
            await AdminKeyFileIsUsedAsync(directory, relativePath);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private async Task AdminKeyFileIsUsedAsync(string directory, string relativePath)
    {
        var path = Path.Combine(directory, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, TestGateway.AdminKey + "\n", Ct);
        var environment = CliRunner.Isolated(directory: directory);

        var created = await CliRunner.RunAsync(["--url", gateway.BaseAddress.ToString(), "project", "create", "--name", "from-file"], Ct, environment);
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Equal("from-file", created.Value("name"));
        Assert.Contains("using the local admin key from " + Path.Combine(relativePath.Split('/')), created.Err, StringComparison.Ordinal);
        Assert.DoesNotContain(TestGateway.AdminKey, created.Out + created.Err, StringComparison.Ordinal);

        // The admin key cannot use project routes; the CLI says what to do instead.
        var apps = await CliRunner.RunAsync(["--url", gateway.BaseAddress.ToString(), "app", "list"], Ct, environment);
        Assert.Equal(ExitCodes.RequestRejected, apps.ExitCode);
        Assert.Contains("(HTTP 403, forbidden)", apps.Err, StringComparison.Ordinal);
        Assert.Contains("needs a project API key", apps.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoKey_NonLocalUrl_IgnoresTheAdminKeyFileAndExits64()
    {
        var directory = Directory.CreateTempSubdirectory("pgcli-").FullName;
        Directory.CreateDirectory(Path.Combine(directory, ".pushgateway"));
        await File.WriteAllTextAsync(Path.Combine(directory, ".pushgateway", "admin-key"), TestGateway.AdminKey, Ct);
        var handler = new RecordingHandler();

        var result = await CliRunner.RunAsync(["--url", "https://push.example.com", "project", "list"], Ct,
            CliRunner.Isolated(directory: directory), handler);
        Directory.Delete(directory, recursive: true);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("error: no key: pass --key or set PUSHGATEWAY_KEY", result.Err, StringComparison.Ordinal);
        Assert.Empty(handler.Requests);
    }

    [Fact]
    public async Task EnvironmentVariables_GiveUrlAndKey_AndOptionsWinOverThem()
    {
        var variables = new Dictionary<string, string>
        {
            ["PUSHGATEWAY_URL"] = gateway.BaseAddress.ToString().TrimEnd('/'),
            ["PUSHGATEWAY_KEY"] = TestGateway.AdminKey,
        };
        var fromEnvironment = await CliRunner.RunAsync(["project", "create", "--name", "env"], Ct, CliRunner.Isolated(variables));
        Assert.True(fromEnvironment.ExitCode == 0, fromEnvironment.ToString());
        Assert.Equal("env", fromEnvironment.Value("name"));

        variables["PUSHGATEWAY_KEY"] = "pgk_wrong";
        var wrongKey = await CliRunner.RunAsync(["project", "list"], Ct, CliRunner.Isolated(variables));
        Assert.Equal(ExitCodes.RequestRejected, wrongKey.ExitCode);
        Assert.Contains("HTTP 401", wrongKey.Err, StringComparison.Ordinal);

        var optionWins = await CliRunner.RunAsync(["--key", TestGateway.AdminKey, "project", "list"], Ct, CliRunner.Isolated(variables));
        Assert.True(optionWins.ExitCode == 0, optionWins.ToString());
    }
}
