using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.Simulator;

namespace PushGateway.IntegrationTests.Delivery;

/// <summary>
/// Token truth beyond the outcome table, against the simulator over real sockets: a configuration mistake answered
/// "dead token" by every device blames the application, not its devices; real deaths still disable exactly the dead
/// endpoints; an uninstall ends the device's login.
/// </summary>
public sealed class TokenTruthTests(DeliveryGateway gateway) : IClassFixture<DeliveryGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary><paramref name="tokens"/> as endpoints of the application, all in the topic "everyone".</summary>
    private async Task SeedAsync(ProjectContext project, Guid appId, IReadOnlyList<string> tokens)
    {
        await project.Client.PutAsync("v1/topics/everyone", null, Ct);
        await gateway.ScalarAsync<int>("""
            WITH e AS (
                INSERT INTO endpoints (id, project_id, application_id, token, enabled, created_at, updated_at, token_updated_at)
                SELECT gen_random_uuid(), @p, @a, t, true, now(), now(), now() FROM unnest(@tokens) t
                RETURNING id)
            INSERT INTO topic_subscriptions (topic_id, endpoint_id, created_at)
            SELECT t.id, e.id, now() FROM e, topics t WHERE t.project_id = @p AND t.name = 'everyone'
            """, Ct, ("p", project.ProjectId), ("a", appId), ("tokens", tokens.ToArray()));
    }

    private static Task<Guid> SendToEveryoneAsync(ProjectContext project) =>
        DeliveryGateway.SendAsync(project.Client, new { target = new { topic = "everyone" }, notification = new { title = "campaign" } }, Ct);

    private Task<long> CountAsync(string sql, params (string, object)[] parameters) => gateway.ScalarAsync<long>(sql, Ct, parameters);

    private Task<long> DeliveriesAsync(Guid messageId, string state) =>
        CountAsync("SELECT count(*) FROM deliveries WHERE message_id = @m AND state = @s", ("m", messageId), ("s", state));

    private Task<long> EnabledEndpointsAsync(Guid appId) =>
        CountAsync("SELECT count(*) FROM endpoints WHERE application_id = @a AND enabled", ("a", appId));

    private async Task<JsonObject> ApplicationAsync(ProjectContext project, Guid appId) =>
        (await project.Client.GetFromJsonAsync<JsonObject>($"v1/applications/{appId}", Ct))!;

    private async Task WaitForHeldAsync(Guid messageId, long atLeast) =>
        await DeliveryGateway.WaitUntilAsync(async () => await CountAsync("SELECT count(*) FROM deliveries WHERE message_id = @m AND state <> 'pending'", ("m", messageId)) >= 200
            && await DeliveriesAsync(messageId, "held") >= atLeast, Ct, TimeSpan.FromSeconds(60), "the campaign held");

    [Fact]
    public async Task WrongBundleId_EnMasse_DisablesTheApplication_NotItsDevices_AndTheFixReachesThemAll()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct, bundleId: "com.example.wrong");
        var tokens = Enumerable.Range(0, 200).Select(_ => TestCredentials.ApnsTokenHex()).ToList();
        foreach (var token in tokens)
        {
            gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Topic = "com.example.app" });
        }

        await SeedAsync(project, appId, tokens);
        var messageId = await SendToEveryoneAsync(project);
        await WaitForHeldAsync(messageId, 150);

        var app = await ApplicationAsync(project, appId);
        Assert.False(app["enabled"]!.GetValue<bool>());
        var reason = app["disabledReason"]!.GetValue<string>();
        Assert.StartsWith("misconfiguration: ", reason, StringComparison.Ordinal);
        Assert.Contains("bundle id", reason, StringComparison.Ordinal);
        // The sweeper finishes restoring what was disabled before the trip: every endpoint is enabled again.
        await DeliveryGateway.WaitUntilAsync(async () => await EnabledEndpointsAsync(appId) == 200, Ct, TimeSpan.FromSeconds(20), "every endpoint enabled");
        var failedBefore = await DeliveriesAsync(messageId, "failed");
        Assert.InRange(failedBefore, 1, 25);
        Assert.Equal(failedBefore, await CountAsync("SELECT count(*) FROM events WHERE application_id = @a AND type = 'endpointUpdated'", ("a", appId)) / 2);
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM events WHERE application_id = @a AND type = 'applicationDisabled' AND endpoint_id IS NULL", ("a", appId)));

        // Operators see it: /readyz counts it (no names without the admin key), /metrics has the trip and the gauge.
        using var anonymous = gateway.Client();
        await DeliveryGateway.WaitUntilAsync(async () =>
        {
            var ready = (await anonymous.GetFromJsonAsync<JsonObject>("readyz", Ct))!;
            return ready["credentials"]?["misconfiguredApplicationCount"]?.GetValue<int>() >= 1;
        }, Ct, TimeSpan.FromSeconds(20), "/readyz counting the misconfigured application");
        // The exporter answers a scrape from a cache of up to 300 ms (another test's scrape may be that recent).
        var metrics = "";
        await DeliveryGateway.WaitUntilAsync(async () =>
        {
            metrics = await anonymous.GetStringAsync("metrics", Ct);
            return Regex.IsMatch(metrics, @"(?m)^pushgateway_applications_misconfigured_current(\{[^}]*\})? [1-9]");
        }, Ct, TimeSpan.FromSeconds(20), "/metrics showing the misconfigured application");
        Assert.Matches(@"(?m)^pushgateway_misconfiguration_trips_total(\{[^}]*\})? [1-9]", metrics);
        Assert.Matches(@"(?m)^pushgateway_applications_misconfigured_current(\{[^}]*\})? [1-9]", metrics);
        Assert.DoesNotContain(appId.ToString(), metrics, StringComparison.Ordinal);

        // The operator fixes the bundle id: held deliveries go out and reach the devices the guard protected.
        var patch = await project.Client.PatchAsJsonAsync($"v1/applications/{appId}", new { credentials = gateway.NewApnsCredentials("com.example.app") }, Ct);
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        await DeliveryGateway.WaitUntilAsync(async () => await DeliveriesAsync(messageId, "delivered") == 200 - failedBefore, Ct, TimeSpan.FromSeconds(30), "held deliveries delivered");
        var next = await SendToEveryoneAsync(project);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, next, Ct);
        Assert.Equal(200, message["counts"]!["delivered"]!.GetValue<long>());
    }

    [Fact]
    public async Task SandboxTokensThroughProduction_EnMasse_FixedInPlaceWithPatchEnvironment()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct, environment: "production");
        var tokens = Enumerable.Range(0, 200).Select(_ => TestCredentials.ApnsTokenHex()).ToList();
        foreach (var token in tokens)
        {
            gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Environment = ApnsEnvironment.Sandbox });
        }

        await SeedAsync(project, appId, tokens);
        gateway.Simulator.State.ClearReceived();
        var messageId = await SendToEveryoneAsync(project);
        await WaitForHeldAsync(messageId, 150);
        var reason = (await ApplicationAsync(project, appId))["disabledReason"]!.GetValue<string>();
        Assert.Contains("sandbox tokens (development builds) sent to the production environment", reason, StringComparison.Ordinal);

        // One probe, and only one, of one affected token against the sandbox made it certain (and delivered that one).
        Assert.True(reason.StartsWith("misconfiguration: confirmed ", StringComparison.Ordinal), reason);
        Assert.Contains("probed against the sandbox environment was accepted", reason, StringComparison.Ordinal);
        var sandboxBeforeFix = gateway.Simulator.State.GetReceived(platform: "apns", limit: 100_000).Items.Count(r => r.Environment == "sandbox" && tokens.Contains(r.Token!));
        Assert.Equal(1, sandboxBeforeFix);
        Assert.Equal(1, await DeliveriesAsync(messageId, "delivered"));
        await DeliveryGateway.WaitUntilAsync(async () => await EnabledEndpointsAsync(appId) == 200, Ct, TimeSpan.FromSeconds(20), "every endpoint enabled");

        var patch = await project.Client.PatchAsJsonAsync($"v1/applications/{appId}", new { environment = "sandbox" }, Ct);
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        var fixedApp = await patch.ReadObjectAsync(Ct);
        Assert.True(fixedApp["enabled"]!.GetValue<bool>());
        Assert.Equal("sandbox", fixedApp["environment"]!.GetValue<string>());
        var failedBefore = await DeliveriesAsync(messageId, "failed");
        await DeliveryGateway.WaitUntilAsync(async () => await DeliveriesAsync(messageId, "delivered") == 200 - failedBefore, Ct, TimeSpan.FromSeconds(30), "held deliveries delivered");
        // Everything received since ClearReceived (the newest 1,000 APNs requests were not always all of it: the
        // campaign alone makes about 400, and the probe's, the oldest sandbox one, fell out of that window).
        var received = gateway.Simulator.State.GetReceived(platform: "apns", limit: 100_000);
        var sandbox = received.Items.Where(r => r.Environment == "sandbox" && tokens.Contains(r.Token!)).ToList();
        // Each held delivery once, the probed one not again.
        Assert.True(200 - failedBefore == sandbox.Count, $"{sandbox.Count} sandbox requests for {200 - failedBefore} delivered; {received.Total} APNs requests since the start");
        Assert.Equal(sandbox.Count, sandbox.Select(r => r.Token).Distinct().Count());
    }

    [Fact]
    public async Task FcmSenderIdMismatch_EnMasse_BlamesTheServiceAccount()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateFcmAppAsync(project.Client, Ct);
        var tokens = Enumerable.Range(0, 60).Select(_ => TestCredentials.FcmToken()).ToList();
        foreach (var token in tokens)
        {
            gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior
            {
                Fcm = new FcmAnswer { Status = 403, GrpcStatus = "PERMISSION_DENIED", ErrorCode = "SENDER_ID_MISMATCH", Message = "SenderId mismatch" },
            });
        }

        await SeedAsync(project, appId, tokens);
        var messageId = await SendToEveryoneAsync(project);
        await DeliveryGateway.WaitUntilAsync(async () => await DeliveriesAsync(messageId, "held") + await DeliveriesAsync(messageId, "failed") == 60, Ct, TimeSpan.FromSeconds(60), "all answered");
        var app = await ApplicationAsync(project, appId);
        Assert.False(app["enabled"]!.GetValue<bool>());
        Assert.Contains("another Firebase project", app["disabledReason"]!.GetValue<string>(), StringComparison.Ordinal);
        await DeliveryGateway.WaitUntilAsync(async () => await EnabledEndpointsAsync(appId) == 60, Ct, TimeSpan.FromSeconds(20), "every endpoint enabled");
    }

    [Fact]
    public async Task TenRealDeathsInAFanOutOfTwoHundred_DisableExactlyThoseTen()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct);
        var tokens = Enumerable.Range(0, 200).Select(_ => TestCredentials.ApnsTokenHex()).ToList();
        foreach (var token in tokens.Take(10))
        {
            gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Preset = TokenPresets.Unregistered, Timestamp = DateTimeOffset.UtcNow.AddSeconds(5).ToUnixTimeMilliseconds() });
        }

        await SeedAsync(project, appId, tokens);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, await SendToEveryoneAsync(project), Ct);
        Assert.Equal(190, message["counts"]!["delivered"]!.GetValue<long>());
        Assert.Equal(10, message["counts"]!["failed"]!.GetValue<long>());
        Assert.True((await ApplicationAsync(project, appId))["enabled"]!.GetValue<bool>());
        Assert.Equal(190, await EnabledEndpointsAsync(appId));
        Assert.Equal(10, await CountAsync("SELECT count(*) FROM endpoints WHERE application_id = @a AND NOT enabled AND token = ANY(@t)", ("a", appId), ("t", tokens.Take(10).ToArray())));
    }

    [Fact]
    public async Task OneDeviceApplication_BadDeviceToken_DisablesTheDevice()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct, environment: "production");
        var token = TestCredentials.ApnsTokenHex();
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Environment = ApnsEnvironment.Sandbox });
        await SeedAsync(project, appId, [token]);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, await SendToEveryoneAsync(project), Ct);
        Assert.Equal(1, message["counts"]!["failed"]!.GetValue<long>());
        Assert.True((await ApplicationAsync(project, appId))["enabled"]!.GetValue<bool>());
        Assert.Equal(0, await EnabledEndpointsAsync(appId));
    }

    [Fact]
    public async Task Uninstall_EndsTheLogin_AReinstallWithoutLoginGetsNothingOfThePreviousUser()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct);
        var token = TestCredentials.ApnsTokenHex();
        var (_, registered) = await project.Client.RegisterAsync(appId, new { token, userId = "user-a" }, Ct);
        var endpointId = registered["endpoint"]!["id"]!.GetValue<Guid>();

        // User A uninstalls the app: Apple answers 410.
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Preset = TokenPresets.Unregistered, Timestamp = DateTimeOffset.UtcNow.AddSeconds(5).ToUnixTimeMilliseconds() });
        await DeliveryGateway.WaitForMessageAsync(project.Client,
            await DeliveryGateway.SendAsync(project.Client, new { target = new { userId = "user-a" }, notification = new { title = "hi A" } }, Ct), Ct);
        var endpoint = (await project.Client.GetFromJsonAsync<JsonObject>($"v1/endpoints/{endpointId}", Ct))!;
        Assert.False(endpoint["enabled"]!.GetValue<bool>());
        Assert.Null(endpoint["userId"]);
        var updated = await gateway.ScalarAsync<string>("SELECT payload::text FROM events WHERE endpoint_id = @e AND type = 'endpointUpdated' ORDER BY sequence DESC LIMIT 1", Ct, ("e", endpointId));
        Assert.Null(JsonNode.Parse(updated!)!["endpoint"]!["userId"]);

        // Reinstalled on the same phone (iOS keeps the token), launched with nobody logged in.
        gateway.Simulator.State.ClearTokenBehavior(token);
        var (_, again) = await project.Client.RegisterAsync(appId, new { token }, Ct);
        Assert.Equal(endpointId, again["endpoint"]!["id"]!.GetValue<Guid>());
        Assert.True(again["endpoint"]!["enabled"]!.GetValue<bool>());
        Assert.Null(again["endpoint"]!["userId"]);
        gateway.Simulator.State.ClearReceived();
        var toA = await project.Client.PostAsJsonAsync("v1/messages", new { target = new { userId = "user-a" }, notification = new { title = "for A" } }, Ct);
        if (toA.StatusCode == HttpStatusCode.Accepted)
        {
            var id = (await toA.ReadObjectAsync(Ct))["id"]!.GetValue<Guid>();
            Assert.Equal(0, (await DeliveryGateway.WaitForMessageAsync(project.Client, id, Ct))["counts"]!["delivered"]!.GetValue<long>());
        }

        Assert.Empty(gateway.Simulator.State.GetReceived(token: token).Items);

        // Someone logs in: the device is theirs.
        var (_, login) = await project.Client.RegisterAsync(appId, new { token, userId = "user-b" }, Ct);
        Assert.Equal("user-b", login["endpoint"]!["userId"]!.GetValue<string>());
    }

    [Fact]
    public async Task LateUnregistered_IgnoredByTheTimestampRule_KeepsTheLogin()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct);
        var token = TestCredentials.ApnsTokenHex();
        var (_, registered) = await project.Client.RegisterAsync(appId, new { token, userId = "user-a" }, Ct);
        var endpointId = registered["endpoint"]!["id"]!.GetValue<Guid>();
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Preset = TokenPresets.Unregistered, Timestamp = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds() });
        await DeliveryGateway.WaitForMessageAsync(project.Client,
            await DeliveryGateway.SendAsync(project.Client, new { target = new { userId = "user-a" }, notification = new { title = "hi" } }, Ct), Ct);
        var endpoint = (await project.Client.GetFromJsonAsync<JsonObject>($"v1/endpoints/{endpointId}", Ct))!;
        Assert.True(endpoint["enabled"]!.GetValue<bool>());
        Assert.Equal("user-a", endpoint["userId"]!.GetValue<string>());
    }
}
