using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Operations;

/// <summary>
/// Requests over the gateway's limits get problem bodies like every other 4xx, over a real Kestrel socket: a request
/// target over 8 KiB (414), headers over 32 KiB (431), a body over 1 MiB (413).
/// </summary>
public sealed class RequestLimitsTests(TestGateway gateway) : IClassFixture<TestGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task LongRequestTarget_Is414WithProblemBody()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var response = await project.Client.GetAsync("v1/endpoints/" + new string('a', 9000), Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.RequestUriTooLong, "uri-too-long", Ct);
        Assert.Contains("8192", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        // Just under the limit is an ordinary answer (the route's own 400/404), not a limit.
        var under = await project.Client.GetAsync("v1/endpoints/" + new string('a', 8000), Ct);
        Assert.NotEqual(HttpStatusCode.RequestUriTooLong, under.StatusCode);
    }

    [Fact]
    public async Task LargeHeaders_Are431WithProblemBody()
    {
        var project = await gateway.NewProjectAsync(Ct);
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/applications");
        for (var i = 0; i < 5; i++)
        {
            request.Headers.Add($"X-Padding-{i}", new string('p', 7000));
        }

        var response = await project.Client.SendAsync(request, Ct);
        await response.AssertProblemAsync(HttpStatusCode.RequestHeaderFieldsTooLarge, "headers-too-large", Ct);
    }

    [Fact]
    public async Task OversizeBody_Is413WithProblemBody_AndChangesNothing()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var response = await project.Client.PostAsJsonAsync("v1/applications", new { name = new string('n', 1_100_000), platform = "fcm" }, Ct);
        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload-too-large", Ct);
        var list = await project.Client.GetStringAsync("v1/applications", Ct);
        Assert.DoesNotContain("nnnn", list, StringComparison.Ordinal);
    }

    /// <summary>Past Kestrel's own (doubled) limit it still refuses, with its bare answer: the backstop holds.</summary>
    [Fact]
    public async Task FarPastTheLimit_KestrelStillRefuses()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(gateway.BaseAddress.Host, gateway.BaseAddress.Port, Ct);
        await using var stream = tcp.GetStream();
        var request = $"GET /v1/{new string('a', 20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), Ct);
        var buffer = new byte[256];
        var read = await stream.ReadAsync(buffer, Ct);
        Assert.StartsWith("HTTP/1.1 414", Encoding.ASCII.GetString(buffer, 0, read), StringComparison.Ordinal);
    }
}
