using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Cli;

/// <summary><c>pushgateway endpoint import FILE</c> and <c>endpoint export</c> against a real gateway.</summary>
public sealed class CliEndpointTransferTests(TestGateway gateway) : IClassFixture<TestGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ImportThenExport_RoundTripsTheEndpoints_WithProgressOnStderr()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateFcmAppAsync(Ct);
        var file = Path.Combine(Path.GetTempPath(), $"import-{Guid.NewGuid():N}.ndjson");
        await File.WriteAllLinesAsync(file, Enumerable.Range(0, 1500).Select(i => $$"""{"token":"cli-{{i}}","userId":"u{{i % 3}}"}""").Append("""{"token":""}"""), Ct);

        var imported = await CliRunner.RunAsync(gateway.BaseAddress, project.Key, Ct, "endpoint", "import", file, "--app", appId.ToString());
        Assert.True(imported.ExitCode == 0, imported.ToString());
        Assert.Equal("1501", imported.Value("lines"));
        Assert.Equal("1500", imported.Value("created"));
        Assert.Equal("1", imported.Value("invalid"));
        Assert.Contains("(100%)", imported.Err);
        Assert.Contains("line 1501: invalid", imported.Err);

        var output = Path.Combine(Path.GetTempPath(), $"export-{Guid.NewGuid():N}.ndjson");
        var exported = await CliRunner.RunAsync(gateway.BaseAddress, project.Key, Ct, "endpoint", "export", "--app", appId.ToString(), "--output", output);
        Assert.True(exported.ExitCode == 0, exported.ToString());
        Assert.Contains("exported 1500 endpoints", exported.Err);
        var lines = await File.ReadAllLinesAsync(output, Ct);
        Assert.Equal(1500, lines.Length);
        Assert.Contains(lines, l => l.Contains("\"token\":\"cli-7\"", StringComparison.Ordinal) && l.Contains("\"userId\":\"u1\"", StringComparison.Ordinal));
        File.Delete(file);
        File.Delete(output);
    }
}
