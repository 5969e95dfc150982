using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Delivery;

public sealed class SendAndDeliverTests(DeliveryGateway gateway) : IClassFixture<DeliveryGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Apns_SingleEndpoint_IsDeliveredWithTheRightRequest()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct, bundleId: "com.example.news");
        var token = TestCredentials.ApnsTokenHex();
        var endpoint = await project.Client.CreateEndpointAsync(appId, token, Ct);

        var before = DateTimeOffset.UtcNow;
        var accepted = await project.Client.PostAsJsonAsync("v1/messages", new
        {
            target = new { endpointId = endpoint.Id() },
            notification = new { title = "Hello", body = "World", badge = 3, sound = "default", threadId = "t1" },
            data = new { orderId = "42" },
            ttlSeconds = 600,
            collapseKey = "news",
        }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var acceptedBody = await accepted.ReadObjectAsync(Ct);
        Assert.Equal("accepted", acceptedBody["status"].Str());
        Assert.Equal(1, acceptedBody["targetCount"]!.GetValue<int>());
        var messageId = acceptedBody.Id();

        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        Assert.Equal(1, message["counts"]!["delivered"]!.GetValue<long>());
        Assert.Equal(1, message["counts"]!["total"]!.GetValue<long>());
        Assert.Equal(0, message["counts"]!["pending"]!.GetValue<long>());
        Assert.NotNull(message["completedAt"]);

        var delivery = await DeliveryGateway.SingleDeliveryAsync(project.Client, messageId, Ct);
        Assert.Equal("delivered", delivery["state"].Str());
        Assert.Equal(1, delivery["attempts"]!.GetValue<int>());
        Assert.Equal(200, delivery["provider"]!["status"]!.GetValue<int>());
        Assert.Null(delivery["provider"]!["uniqueId"]); // production sends no apns-unique-id

        var received = Assert.Single(gateway.Simulator.State.GetReceived("apns", token).Items);
        Assert.Equal("production", received.Environment);
        Assert.Equal(delivery["provider"]!["id"].Str(), received.Headers!["apns-id"]);
        Assert.Equal("com.example.news", received.Headers["apns-topic"]);
        Assert.Equal("alert", received.Headers["apns-push-type"]);
        Assert.Equal("10", received.Headers["apns-priority"]);
        Assert.Equal("news", received.Headers["apns-collapse-id"]);
        var expiration = DateTimeOffset.FromUnixTimeSeconds(long.Parse(received.Headers["apns-expiration"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.InRange(expiration, before.AddSeconds(590), before.AddSeconds(620));
        var payload = JsonNode.Parse(received.Body!.Value.GetRawText())!;
        Assert.Equal("Hello", payload["aps"]!["alert"]!["title"].Str());
        Assert.Equal("World", payload["aps"]!["alert"]!["body"].Str());
        Assert.Equal(3, payload["aps"]!["badge"]!.GetValue<int>());
        Assert.Equal("t1", payload["aps"]!["thread-id"].Str());
        Assert.Equal("42", payload["orderId"].Str());
    }

    [Fact]
    public async Task Apns_DataOnly_IsBackgroundPriority5_AndOverridesMerge()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct, environment: "sandbox", bundleId: "com.example.bg");
        var token = TestCredentials.ApnsTokenHex();
        var endpoint = await project.Client.CreateEndpointAsync(appId, token, Ct);
        var messageId = await DeliveryGateway.SendAsync(project.Client, new
        {
            target = new { endpointId = endpoint.Id() },
            data = new { sync = "1" },
            priority = "high",
            apns = new { payload = new { aps = new { category = "SYNC" }, extra = new { nested = true } } },
        }, Ct);
        await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);

        var received = Assert.Single(gateway.Simulator.State.GetReceived("apns", token).Items);
        Assert.Equal("sandbox", received.Environment);
        Assert.Equal("background", received.Headers!["apns-push-type"]);
        Assert.Equal("5", received.Headers["apns-priority"]);
        var payload = JsonNode.Parse(received.Body!.Value.GetRawText())!;
        Assert.Equal(1, payload["aps"]!["content-available"]!.GetValue<int>());
        Assert.Equal("SYNC", payload["aps"]!["category"].Str());
        Assert.True(payload["extra"]!["nested"]!.GetValue<bool>());
        Assert.Equal("1", payload["sync"].Str());
        // The sandbox answers with apns-unique-id (for Apple's Push Notifications Console); the receipt keeps both.
        var delivery = await DeliveryGateway.SingleDeliveryAsync(project.Client, messageId, Ct);
        Assert.Equal(received.Headers["apns-id"], delivery["provider"]!["id"].Str());
        Assert.True(Guid.TryParse(delivery["provider"]!["uniqueId"]?.GetValue<string>(), out _), delivery.ToJsonString());
    }

    [Fact]
    public async Task Apns_ExplicitBackground_WithData_WakesTheApp()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct, bundleId: "com.example.bg2");
        var token = TestCredentials.ApnsTokenHex();
        var endpoint = await project.Client.CreateEndpointAsync(appId, token, Ct);
        var messageId = await DeliveryGateway.SendAsync(project.Client, new
        {
            target = new { endpointId = endpoint.Id() },
            data = new { sync = "1" },
            apns = new { pushType = "background" },
        }, Ct);
        await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);

        var received = Assert.Single(gateway.Simulator.State.GetReceived("apns", token).Items);
        Assert.Equal("background", received.Headers!["apns-push-type"]);
        Assert.Equal("5", received.Headers["apns-priority"]);
        var payload = JsonNode.Parse(received.Body!.Value.GetRawText())!;
        Assert.Equal(1, payload["aps"]!["content-available"]!.GetValue<int>());
        Assert.Equal("1", payload["sync"].Str());
    }

    [Fact]
    public async Task Apns_Voip_UsesVoipTopic()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct, bundleId: "com.example.call");
        var token = TestCredentials.ApnsTokenHex();
        var endpoint = await project.Client.CreateEndpointAsync(appId, token, Ct);
        var messageId = await DeliveryGateway.SendAsync(project.Client, new
        {
            target = new { endpointId = endpoint.Id() },
            data = new { caller = "Ann" },
            apns = new { pushType = "voip" },
        }, Ct);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        Assert.Equal(1, message["counts"]!["delivered"]!.GetValue<long>());
        var received = Assert.Single(gateway.Simulator.State.GetReceived("apns", token).Items);
        Assert.Equal("com.example.call.voip", received.Headers!["apns-topic"]);
        Assert.Equal("voip", received.Headers["apns-push-type"]);
    }

    [Fact]
    public async Task Fcm_SingleEndpoint_IsDelivered_WithRemainingTtl()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateFcmAppAsync(project.Client, Ct, "proj-a");
        var token = TestCredentials.FcmToken();
        var endpoint = await project.Client.CreateEndpointAsync(appId, token, Ct);
        var messageId = await DeliveryGateway.SendAsync(project.Client, new
        {
            target = new { endpointId = endpoint.Id() },
            notification = new { title = "Hi", body = "there", image = "https://example.com/a.png" },
            data = new { k = "v" },
            ttlSeconds = 120,
            collapseKey = "c1",
            fcm = new { message = new { android = new { notification = new { channel_id = "promo" } }, fcm_options = new { analytics_label = "l1" } } },
        }, Ct);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        Assert.Equal(1, message["counts"]!["delivered"]!.GetValue<long>());

        var received = Assert.Single(gateway.Simulator.State.GetReceived("fcm", token).Items);
        var body = JsonNode.Parse(received.Body!.Value.GetRawText())!["message"]!;
        Assert.Equal(token, body["token"].Str());
        Assert.Equal("Hi", body["notification"]!["title"].Str());
        Assert.Equal("https://example.com/a.png", body["notification"]!["image"].Str());
        Assert.Equal("v", body["data"]!["k"].Str());
        Assert.Equal("high", body["android"]!["priority"].Str());
        Assert.Equal("c1", body["android"]!["collapse_key"].Str());
        Assert.Equal("promo", body["android"]!["notification"]!["channel_id"].Str());
        Assert.Equal("l1", body["fcm_options"]!["analytics_label"].Str());
        var ttl = int.Parse(body["android"]!["ttl"].Str().TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(ttl, 100, 120);

        var delivery = await DeliveryGateway.SingleDeliveryAsync(project.Client, messageId, Ct);
        Assert.StartsWith("projects/proj-a/messages/", delivery["provider"]!["id"].Str(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SingleTarget_Disabled_Is409_Unknown_Is404_TooBig_Is413_NothingQueued()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct);
        var endpoint = await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct);
        await project.Client.PatchAsJsonAsync($"v1/endpoints/{endpoint.Id()}", new { enabled = false }, Ct);
        var before = await gateway.TableCountsAsync(Ct);

        var disabled = await project.Client.PostAsJsonAsync("v1/messages", new { target = new { endpointId = endpoint.Id() }, notification = new { title = "x" } }, Ct);
        var problem = await disabled.AssertProblemAsync(HttpStatusCode.Conflict, "endpoint-disabled", Ct);
        Assert.Equal(endpoint.Id(), problem.Id("endpointId"));

        var unknown = await project.Client.PostAsJsonAsync("v1/messages", new { target = new { endpointId = Guid.NewGuid() }, notification = new { title = "x" } }, Ct);
        await unknown.AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);

        var enabledEndpoint = await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct);
        before = await gateway.TableCountsAsync(Ct);
        var tooBig = await project.Client.PostAsJsonAsync("v1/messages", new { target = new { endpointId = enabledEndpoint.Id() }, notification = new { body = new string('x', 4100) } }, Ct);
        await tooBig.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload-too-large", Ct);
        // VoIP allows 5120 bytes.
        var voip = await project.Client.PostAsJsonAsync("v1/messages", new { target = new { endpointId = enabledEndpoint.Id() }, data = new { blob = new string('x', 4500) }, apns = new { pushType = "voip" } }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, voip.StatusCode);
        Assert.Equal(1, await gateway.ScalarAsync<long>("SELECT count(*) FROM messages m JOIN deliveries d ON d.message_id = m.id WHERE m.project_id = @p", Ct, ("p", project.ProjectId)));
    }

    [Fact]
    public async Task Emoji_CountAsTheirUtf8Bytes_NotAsEscapes()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct);
        var token = TestCredentials.ApnsTokenHex();
        var endpoint = await project.Client.CreateEndpointAsync(appId, token, Ct);
        // 1,000 emoji: 4,000 bytes of UTF-8 (fits in 4096), 12,000 if written as \uXXXX\uXXXX escapes (would not).
        var body = string.Concat(Enumerable.Repeat("🎉", 1000));
        var messageId = await DeliveryGateway.SendAsync(project.Client, new { target = new { endpointId = endpoint.Id() }, notification = new { body } }, Ct);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        Assert.Equal(1, message["counts"]!["delivered"]!.GetValue<long>());
        var received = Assert.Single(gateway.Simulator.State.GetReceived("apns", token).Items);
        Assert.Equal(body, received.Body!.Value.GetProperty("aps").GetProperty("alert").GetProperty("body").GetString());
    }

    [Fact]
    public async Task Fcm_TooBig_Is413()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateFcmAppAsync(project.Client, Ct);
        var endpoint = await project.Client.CreateEndpointAsync(appId, TestCredentials.FcmToken(), Ct);
        var response = await project.Client.PostAsJsonAsync("v1/messages", new { target = new { endpointId = endpoint.Id() }, data = new { blob = new string('y', 4000) } }, Ct);
        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload-too-large", Ct);
    }

    /// <summary>
    /// A send to one FCM endpoint is checked against that endpoint's own token: a message that fits with a short token
    /// and not with a long one is accepted for the first and 413 for the second, and a small message to an endpoint
    /// with a token of 2,000 characters is accepted (the one-statement send compares the token's length with the
    /// message's room in SQL).
    /// </summary>
    [Fact]
    public async Task Fcm_SizeIsCheckedAgainstTheEndpointsOwnToken()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateFcmAppAsync(project.Client, Ct);
        var shortToken = await project.Client.CreateEndpointAsync(appId, TestCredentials.FcmToken(), Ct);
        var longToken = await project.Client.CreateEndpointAsync(appId, "fcm_" + new string('L', 2000), Ct);
        // About 3,500 bytes with a 132-character token, over 4,096 with one of 1,024 or more.
        var nearTheLimit = new { blob = new string('y', 3350) };

        var fits = await project.Client.PostAsJsonAsync("v1/messages", new { target = new { endpointId = shortToken.Id() }, data = nearTheLimit }, Ct);
        Assert.True(HttpStatusCode.Accepted == fits.StatusCode, await fits.Content.ReadAsStringAsync(Ct));
        var tooBig = await project.Client.PostAsJsonAsync("v1/messages", new { target = new { endpointId = longToken.Id() }, data = nearTheLimit }, Ct);
        await tooBig.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload-too-large", Ct);
        var small = await project.Client.PostAsJsonAsync("v1/messages", new { target = new { endpointId = longToken.Id() }, data = new { k = "v" } }, Ct);
        Assert.True(HttpStatusCode.Accepted == small.StatusCode, await small.Content.ReadAsStringAsync(Ct));

        Assert.Equal(2, await gateway.ScalarAsync<long>("SELECT count(*) FROM messages m JOIN deliveries d ON d.message_id = m.id WHERE m.project_id = @p", Ct, ("p", project.ProjectId)));
        Assert.Equal(1, await gateway.ScalarAsync<long>("SELECT count(*) FROM deliveries WHERE endpoint_id = @e", Ct, ("e", longToken.Id())));
    }

    /// <summary>Another project's endpoint is not found, and nothing is written for it.</summary>
    [Fact]
    public async Task SendToAnotherProjectsEndpoint_Is404_NothingWritten()
    {
        var owner = await gateway.NewProjectAsync(Ct);
        var endpoint = await owner.Client.CreateEndpointAsync(await gateway.CreateApnsAppAsync(owner.Client, Ct), TestCredentials.ApnsTokenHex(), Ct);
        var other = await gateway.NewProjectAsync(Ct);

        var response = await other.Client.PostAsJsonAsync("v1/messages", new { target = new { endpointId = endpoint.Id() }, notification = new { title = "x" } }, Ct);
        await response.AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        Assert.Equal(0, await gateway.ScalarAsync<long>("SELECT count(*) FROM deliveries WHERE endpoint_id = @e", Ct, ("e", endpoint.Id())));
        Assert.Equal(0, await gateway.ScalarAsync<long>("SELECT count(*) FROM messages WHERE project_id = @p", Ct, ("p", other.ProjectId)));
    }

    public static TheoryData<string> BadMessages => new()
    {
        """{"target":{}}""",
        """{"target":{"endpointId":"00000000-0000-0000-0000-000000000001","userId":"u"}}""",
        """{"target":{"topic":"bad name"}}""",
        """{"target":{"userId":"u"},"data":{"n":1}}""",
        """{"target":{"userId":"u"},"data":{"from":"x"}}""",
        """{"target":{"userId":"u"},"ttlSeconds":-1}""",
        """{"target":{"userId":"u"},"ttlSeconds":2419201}""",
        """{"target":{"userId":"u"},"priority":"urgent"}""",
        """{"target":{"userId":"u"},"apns":{"pushType":"shout"}}""",
        """{"target":{"userId":"u"},"collapseKey":"0123456789012345678901234567890123456789012345678901234567890123456789"}""",
        """{"target":{"userId":"u"},"fcm":{"message":{"token":"steal"}}}""",
        """{"target":{"userId":"u"},"notification":{"badge":-1}}""",
        """{"target":{"userId":"u"},"notification":{"image":"not a url"}}""",
        """{"target":{"endpointIds":[]}}""",
        """{"target":{"userId":"u"},"notification":{"title":1}}""",
        """{"target":{"userId":"u"},"surprise":true}""",
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public async Task BadMessage_Is400_NothingQueued(string json)
    {
        var project = await gateway.NewProjectAsync(Ct);
        var response = await project.Client.PostAsync("v1/messages", Json.Raw(json), Ct);
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
        Assert.Equal(0, await gateway.ScalarAsync<long>("SELECT count(*) FROM messages WHERE project_id = @p", Ct, ("p", project.ProjectId)));
    }

    [Fact]
    public async Task UnknownTopic_Is404()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var response = await project.Client.PostAsJsonAsync("v1/messages", new { target = new { topic = "nope" }, notification = new { title = "x" } }, Ct);
        await response.AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
    }

    [Fact]
    public async Task Messages_AreProjectScoped()
    {
        var a = await gateway.NewProjectAsync(Ct);
        var b = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateFcmAppAsync(a.Client, Ct);
        var endpoint = await a.Client.CreateEndpointAsync(appId, TestCredentials.FcmToken(), Ct);
        var messageId = await DeliveryGateway.SendAsync(a.Client, new { target = new { endpointId = endpoint.Id() }, data = new { x = "1" } }, Ct);
        await (await b.Client.GetAsync($"v1/messages/{messageId}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await b.Client.GetAsync($"v1/messages/{messageId}/deliveries", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await b.Client.PostAsJsonAsync("v1/messages", new { target = new { endpointId = endpoint.Id() }, data = new { x = "1" } }, Ct))
            .AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
    }
}
