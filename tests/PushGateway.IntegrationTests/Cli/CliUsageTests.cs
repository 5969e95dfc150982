using System.Net;
using System.Net.Sockets;
using System.Text;
using PushGateway.Cli;

namespace PushGateway.IntegrationTests.Cli;

/// <summary>Exit codes that do not need a gateway: bad usage (64), nothing listening (2), 5xx and non-API answers (2).</summary>
public sealed class CliUsageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string SomeId = "0199a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d";

    [Theory]
    [InlineData("")]
    [InlineData("frobnicate")]
    [InlineData("project")]
    [InlineData("project create")]
    [InlineData("project show not-a-guid")]
    [InlineData("project show " + SomeId + " extra")]
    [InlineData("apikey create --project " + SomeId)]
    [InlineData("apikey revoke --project " + SomeId)]
    [InlineData("endpoint list")]
    [InlineData("endpoint list --app " + SomeId + " --enabled maybe")]
    [InlineData("endpoint list --app " + SomeId + " --limit 0")]
    [InlineData("endpoint register --app " + SomeId)]
    [InlineData("send --title hello")]
    [InlineData("send --user alice --topic news")]
    [InlineData("send --endpoint 42")]
    [InlineData("send --user alice --priority urgent")]
    [InlineData("send --user alice --data novalue")]
    [InlineData("send --user alice --data a=1 a=2")]
    [InlineData("send --user alice --ttl -5")]
    [InlineData("send --user alice --wait 0")]
    [InlineData("message deliveries " + SomeId + " --state lost")]
    [InlineData("--url ftp://example.com project list")]
    [InlineData("--url not-a-url project list")]
    public async Task BadUsage_ExitsWith64_WithoutCallingTheGateway(string commandLine)
    {
        var handler = new RecordingHandler();
        var args = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);

        var result = await CliRunner.RunAsync(["--key", "k", .. args], Ct, handler: handler);

        Assert.True(result.ExitCode == ExitCodes.Usage, result.ToString());
        Assert.Equal("", result.Out);
        Assert.StartsWith("error: ", result.Err, StringComparison.Ordinal);
        Assert.Empty(handler.Requests);
    }

    [Fact]
    public async Task Help_ExitsWith0_AndListsTheCommands()
    {
        var result = await CliRunner.RunAsync(["--help"], Ct);

        Assert.Equal(0, result.ExitCode);
        foreach (var command in new[] { "project", "apikey", "app", "endpoint", "send", "message" })
        {
            Assert.Contains("  " + command + " ", result.Out, StringComparison.Ordinal);
        }

        Assert.Contains("pushgateway [command] [options]", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableGateway_ExitsWith2()
    {
        // A port that was just free: nothing listens there.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var result = await CliRunner.RunAsync(["--url", $"http://127.0.0.1:{port}", "--key", "k", "project", "list"], Ct);

        Assert.Equal(ExitCodes.GatewayUnavailable, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.Contains($"error: cannot reach the gateway at http://127.0.0.1:{port}/", result.Err, StringComparison.Ordinal);

        // Credentials someone put in the URL are not echoed.
        var withUserInfo = await CliRunner.RunAsync(["--url", $"http://ops:hunter2@127.0.0.1:{port}", "--key", "k", "app", "list"], Ct);
        Assert.Equal(ExitCodes.GatewayUnavailable, withUserInfo.ExitCode);
        Assert.DoesNotContain("hunter2", withUserInfo.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerError_ExitsWith2_AndPrintsTheProblem()
    {
        var handler = new RecordingHandler(_ => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
        {
            Content = new StringContent(
                """{"type":"service-unavailable","title":"Database unavailable.","status":503,"detail":"Try again shortly.","traceId":"00-abc-01"}""",
                Encoding.UTF8, "application/problem+json"),
        });

        var result = await CliRunner.RunAsync(["--key", "k", "message", "show", SomeId], Ct, handler: handler);

        Assert.Equal(ExitCodes.GatewayUnavailable, result.ExitCode);
        Assert.Equal($"GET /v1/messages/{SomeId}", Assert.Single(handler.Requests));
        Assert.Contains("error: Database unavailable. (HTTP 503, service-unavailable)", result.Err, StringComparison.Ordinal);
        Assert.Contains("  Try again shortly.", result.Err, StringComparison.Ordinal);
        Assert.Contains("  traceId: 00-abc-01", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotTheApi_ExitsWith2()
    {
        var handler = new RecordingHandler(_ => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StringContent("<html>hello</html>", Encoding.UTF8, "text/html"),
        });

        var result = await CliRunner.RunAsync(["--key", "k", "--url", "http://127.0.0.1:9/push", "app", "list"], Ct, handler: handler);

        Assert.Equal(ExitCodes.GatewayUnavailable, result.ExitCode);
        Assert.Contains("is not JSON", result.Err, StringComparison.Ordinal);
        // A path prefix (reverse proxy) is kept; the list asks for pages.
        Assert.Equal("GET /push/v1/applications?limit=1000", Assert.Single(handler.Requests));
    }
}
