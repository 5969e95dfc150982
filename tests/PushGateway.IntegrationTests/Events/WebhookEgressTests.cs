using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using PushGateway.Events;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Events;

/// <summary>
/// The webhook egress policy with private networks not allowed (the production default). SAFETY: these tests only
/// set non-loopback URLs and see them refused; the only address ever connected to is 127.0.0.1.
/// </summary>
public sealed class WebhookEgressTests(WebhookEgressTests.Gateway gateway) : IClassFixture<WebhookEgressTests.Gateway>
{
    public sealed class Gateway : TestGateway
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Delivery:Enabled"] = "false",
            ["Events:AllowPrivateNetworks"] = "false",
            ["Events:PollInterval"] = "00:00:00.050",
            ["Events:RetryWindow"] = "00:00:01",
            ["Events:RetryBaseDelay"] = "00:00:00.200",
            ["Events:RetryMaxDelay"] = "00:00:00.300",
            ["Events:RequestTimeout"] = "00:00:01",
            ["Events:LeaseDuration"] = "00:00:10",
        };
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://10.0.0.1/hook")]
    [InlineData("http://192.168.1.1/hook")]
    [InlineData("http://172.16.0.1/hook")]
    [InlineData("http://100.64.0.1/hook")]
    [InlineData("http://[fd00::1]/hook")]
    [InlineData("http://[fe80::1]/hook")]
    [InlineData("http://0.0.0.0/hook")]
    [InlineData("http://[::]/hook")]
    [InlineData("http://224.0.0.1/hook")]
    [InlineData("http://255.255.255.255/hook")]
    [InlineData("http://localhost/hook")]
    [InlineData("http://api.localhost/hook")]
    [InlineData("http://127.0.0.1/hook")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://2130706433/hook")]
    [InlineData("http://0x7f.1/hook")]
    [InlineData("http://127.1/hook")]
    [InlineData("http://[::ffff:127.0.0.1]/hook")]
    [InlineData("http://[::ffff:169.254.169.254]/hook")]
    [InlineData("http://[64:ff9b::a00:1]/hook")]
    [InlineData("https://user:pass@hooks.example.com/hook")]
    public async Task RefusedWebhookUrl_Is400_AndNothingIsStored(string url)
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var before = await gateway.TableCountsAsync(Ct);

        var patch = await project.Client.PatchAsJsonAsync($"v1/applications/{appId}",
            new { events = new { url, secret = "0123456789abcdef0123" } }, Ct);
        var problem = await patch.AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
        Assert.NotNull(problem["errors"]?["events.url"]);
        Assert.DoesNotContain("pass@hooks", problem.ToJsonString(), StringComparison.Ordinal);
        Assert.Null(await gateway.ScalarAsync<string>("SELECT events_url FROM applications WHERE id = @id", Ct, ("id", appId)));

        var created = await project.Client.PostAsJsonAsync("v1/applications", new
        {
            name = "ios",
            platform = "apns",
            environment = "production",
            credentials = TestCredentials.ApnsToken(),
            events = new { url, secret = "0123456789abcdef0123" },
        }, Ct);
        await created.AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
        Assert.Equal(before, await gateway.TableCountsAsync(Ct));
    }

    [Fact]
    public async Task ConnectStep_NameResolvingToLoopback_IsRefusedWithoutAConnection()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var handler = new SocketsHttpHandler { ConnectCallback = new WebhookConnector(allowPrivateNetworks: false).ConnectAsync };
        using var client = new HttpClient(handler);

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync($"http://localhost:{port}/hook", new StringContent("{}"), Ct));

        Assert.IsType<WebhookAddressRefusedException>(ex.InnerException);
        await Task.Delay(100, Ct);
        Assert.False(listener.Pending(), "a connection reached the listener");
    }

    [Fact]
    public async Task ConnectStep_LoopbackAllowedWithAllowPrivateNetworks_Connects()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var handler = new SocketsHttpHandler { ConnectCallback = new WebhookConnector(allowPrivateNetworks: true).ConnectAsync };
        using var client = new HttpClient(handler);

        using var response = await client.PostAsync(receiver.Url, new StringContent("{}"), Ct);

        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task Dispatch_UrlThatNowResolvesToLoopback_FailsWithAddressNotAllowed_NoConnection()
    {
        // As if the name had resolved elsewhere when it was set (DNS rebinding): the row is written directly.
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var patch = await project.Client.PatchAsJsonAsync($"v1/applications/{appId}",
            new { events = new { url = "https://hooks.example.com/hook", secret = "0123456789abcdef0123" } }, Ct);
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        await gateway.ScalarAsync<int>("UPDATE applications SET events_url = @u WHERE id = @id", Ct, ("u", $"http://localhost:{port}/hook"), ("id", appId));
        await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct);

        var events = await project.Client.WaitForEventsAsync(appId, e => e.Count == 1 && e[0]["state"].Str() == "failed", Ct, what: "the event to fail");

        Assert.Equal(WebhookAddressPolicy.AddressNotAllowed, events[0]["lastError"].Str());
        Assert.False(listener.Pending(), "a connection reached the listener");
    }
}
