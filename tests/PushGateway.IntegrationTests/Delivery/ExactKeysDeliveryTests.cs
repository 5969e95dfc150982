using System.Net;
using System.Text.Json;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Delivery;

/// <summary>
/// JSON keys that differ only in case are different keys: they reach the provider exactly as sent, and merges of
/// <c>apns.payload</c> / <c>fcm.message</c> over the generated payload match keys exactly.
/// </summary>
public sealed class ExactKeysDeliveryTests(DeliveryGateway gateway) : IClassFixture<DeliveryGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Apns_CaseDifferingKeys_ReachTheDeviceAsSent_AndMergeMatchesKeysExactly()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct, bundleId: "com.example.keys");
        var token = TestCredentials.ApnsTokenHex();
        var endpoint = await project.Client.CreateEndpointAsync(appId, token, Ct);

        var response = await project.Client.PostAsync("v1/messages", Json.Raw("""
            {"target":{"endpointId":"ENDPOINT"},"notification":{"title":"Hi"},"data":{"k":"lower","K":"upper"},
             "apns":{"payload":{"a":1,"A":2,"aps":{"badge":1},"APS":{"x":{"y":1,"Y":2}},"k":"merged"}}}
            """.Replace("ENDPOINT", endpoint.Id().ToString(), StringComparison.Ordinal)), Ct);
        Assert.True(HttpStatusCode.Accepted == response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, (await response.ReadObjectAsync(Ct)).Id(), Ct);
        Assert.Equal(1, message["counts"]!["delivered"]!.GetValue<long>());

        var received = Assert.Single(gateway.Simulator.State.GetReceived("apns", token).Items);
        var payload = received.Body!.Value;
        // Every key once, in the generated order and then the payload's own: "k" replaced by the override, "K" kept.
        Assert.Equal(["aps", "k", "K", "a", "A", "APS"], Names(payload));
        Assert.Equal("merged", payload.GetProperty("k").GetString());
        Assert.Equal("upper", payload.GetProperty("K").GetString());
        Assert.Equal(1, payload.GetProperty("a").GetInt32());
        Assert.Equal(2, payload.GetProperty("A").GetInt32());
        // "APS" did not merge into "aps": the generated alert is still there beside the override's badge.
        var aps = payload.GetProperty("aps");
        Assert.Equal(["alert", "badge"], Names(aps));
        Assert.Equal("Hi", aps.GetProperty("alert").GetProperty("title").GetString());
        Assert.Equal(["y", "Y"], Names(payload.GetProperty("APS").GetProperty("x")));
    }

    [Fact]
    public async Task Fcm_CaseDifferingKeys_ReachTheProviderAsSent_AndMergeMatchesKeysExactly()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateFcmAppAsync(project.Client, Ct, "proj-keys");
        var token = TestCredentials.FcmToken();
        var endpoint = await project.Client.CreateEndpointAsync(appId, token, Ct);

        var response = await project.Client.PostAsync("v1/messages", Json.Raw("""
            {"target":{"endpointId":"ENDPOINT"},"data":{"k":"lower","K":"upper"},
             "fcm":{"message":{"data":{"x":"1","X":"2","K":"override"}}}}
            """.Replace("ENDPOINT", endpoint.Id().ToString(), StringComparison.Ordinal)), Ct);
        Assert.True(HttpStatusCode.Accepted == response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, (await response.ReadObjectAsync(Ct)).Id(), Ct);
        Assert.Equal(1, message["counts"]!["delivered"]!.GetValue<long>());

        var received = Assert.Single(gateway.Simulator.State.GetReceived("fcm", token).Items);
        var sent = received.Body!.Value.GetProperty("message");
        var data = sent.GetProperty("data");
        Assert.Equal(["k", "K", "x", "X"], Names(data));
        Assert.Equal("lower", data.GetProperty("k").GetString());
        Assert.Equal("override", data.GetProperty("K").GetString());
    }

    private static string[] Names(JsonElement o) => o.EnumerateObject().Select(p => p.Name).ToArray();
}
