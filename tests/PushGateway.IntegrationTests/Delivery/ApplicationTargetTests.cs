using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Delivery;

/// <summary>
/// <c>{"target": {"applicationId": …}}</c>: every enabled endpoint of one application of the caller's project, with a
/// topic's skip and count rules, against the simulator over real sockets.
/// </summary>
public sealed class ApplicationTargetTests(DeliveryGateway gateway) : IClassFixture<DeliveryGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static object Message(Guid applicationId) => new { target = new { applicationId }, notification = new { title = "everyone" } };

    [Fact]
    public async Task ApplicationTarget_ReachesEveryEnabledEndpointOfThatApplication_AndNoOther()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var ios = await gateway.CreateApnsAppAsync(project.Client, Ct);
        var android = await gateway.CreateFcmAppAsync(project.Client, Ct);
        var other = await gateway.NewProjectAsync(Ct);
        var otherIos = await gateway.CreateApnsAppAsync(other.Client, Ct);

        var enabled = Enumerable.Range(0, 3).Select(_ => TestCredentials.ApnsTokenHex()).ToList();
        foreach (var token in enabled)
        {
            await project.Client.CreateEndpointAsync(ios, token, Ct);
        }

        var disabledToken = TestCredentials.ApnsTokenHex();
        var disabled = await project.Client.CreateEndpointAsync(ios, disabledToken, Ct);
        await project.Client.PatchAsJsonAsync($"v1/endpoints/{disabled.Id()}", new { enabled = false }, Ct);
        var androidToken = TestCredentials.FcmToken();
        await project.Client.CreateEndpointAsync(android, androidToken, Ct);
        var otherToken = TestCredentials.ApnsTokenHex();
        await other.Client.CreateEndpointAsync(otherIos, otherToken, Ct);

        var response = await project.Client.PostAsJsonAsync("v1/messages", Message(ios), Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await response.ReadObjectAsync(Ct);
        Assert.Null(accepted["targetCount"]);

        var done = await DeliveryGateway.WaitForMessageAsync(project.Client, accepted.Id(), Ct);
        Assert.Equal(4, done["targetCount"]!.GetValue<int>());
        var counts = done["counts"]!;
        Assert.Equal(4, counts["total"]!.GetValue<long>());
        Assert.Equal(3, counts["delivered"]!.GetValue<long>());
        Assert.Equal(1, counts["skipped"]!.GetValue<long>());
        Assert.Equal(0, counts["pending"]!.GetValue<long>());

        foreach (var token in enabled)
        {
            Assert.Single(gateway.Simulator.State.GetReceived("apns", token).Items);
        }

        Assert.Empty(gateway.Simulator.State.GetReceived("apns", disabledToken).Items);
        Assert.Empty(gateway.Simulator.State.GetReceived("fcm", androidToken).Items);
        Assert.Empty(gateway.Simulator.State.GetReceived("apns", otherToken).Items);
        var page = (await project.Client.GetFromJsonAsync<JsonObject>($"v1/messages/{accepted.Id()}/deliveries?state=skipped", Ct))!;
        Assert.Equal(disabled.Id(), Assert.Single(page["items"]!.AsArray())!["endpointId"]!.GetValue<Guid>());
    }

    [Fact]
    public async Task ApplicationOfAnotherProject_OrUnknown_Is404_AndNothingIsQueued()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var other = await gateway.NewProjectAsync(Ct);
        var otherIos = await gateway.CreateApnsAppAsync(other.Client, Ct);
        var otherToken = TestCredentials.ApnsTokenHex();
        await other.Client.CreateEndpointAsync(otherIos, otherToken, Ct);

        foreach (var id in new[] { otherIos, Guid.NewGuid() })
        {
            var response = await project.Client.PostAsJsonAsync("v1/messages", Message(id), Ct);
            var problem = await response.AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
            Assert.Contains(id.ToString(), problem["detail"].Str(), StringComparison.Ordinal);
        }

        Assert.Equal(0, await gateway.ScalarAsync<long>("SELECT count(*) FROM messages WHERE project_id = @p", Ct, ("p", project.ProjectId)));
        await Task.Delay(300, Ct);
        Assert.Empty(gateway.Simulator.State.GetReceived("apns", otherToken).Items);

        var two = await project.Client.PostAsJsonAsync("v1/messages",
            new { target = new { applicationId = otherIos, topic = "news" }, notification = new { title = "t" } }, Ct);
        var invalid = await two.AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
        Assert.Contains("applicationId", invalid["errors"]!["target"]![0].Str(), StringComparison.Ordinal);
    }
}
