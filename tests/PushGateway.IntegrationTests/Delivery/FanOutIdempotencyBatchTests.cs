using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Delivery;

public sealed class FanOutIdempotencyBatchTests(DeliveryGateway gateway) : IClassFixture<DeliveryGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UserTarget_SpansApps_SkipsDisabled()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var ios = await gateway.CreateApnsAppAsync(project.Client, Ct);
        var android = await gateway.CreateFcmAppAsync(project.Client, Ct);
        var phone = await project.Client.CreateEndpointAsync(ios, TestCredentials.ApnsTokenHex(), Ct, userId: "u1");
        var tablet = await project.Client.CreateEndpointAsync(android, TestCredentials.FcmToken(), Ct, userId: "u1");
        var old = await project.Client.CreateEndpointAsync(android, TestCredentials.FcmToken(), Ct, userId: "u1");
        await project.Client.CreateEndpointAsync(android, TestCredentials.FcmToken(), Ct, userId: "someone-else");
        await project.Client.PatchAsJsonAsync($"v1/endpoints/{old.Id()}", new { enabled = false }, Ct);

        var response = await project.Client.PostAsJsonAsync("v1/messages", new { target = new { userId = "u1" }, notification = new { title = "hi" } }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await response.ReadObjectAsync(Ct);
        Assert.Null(accepted["targetCount"]);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, accepted.Id(), Ct);
        Assert.Equal(3, message["targetCount"]!.GetValue<int>());
        Assert.Equal(2, message["counts"]!["delivered"]!.GetValue<long>());
        Assert.Equal(1, message["counts"]!["skipped"]!.GetValue<long>());
        Assert.Equal(3, message["counts"]!["total"]!.GetValue<long>());
        Assert.Single(gateway.Simulator.State.GetReceived("apns", phone["token"].Str()).Items);
        Assert.Single(gateway.Simulator.State.GetReceived("fcm", tablet["token"].Str()).Items);
        Assert.Empty(gateway.Simulator.State.GetReceived("fcm", old["token"].Str()).Items);

        var skipped = await project.Client.GetFromJsonAsync<JsonObject>($"v1/messages/{accepted.Id()}/deliveries?state=skipped", Ct);
        Assert.Equal(old.Id(), Assert.Single(skipped!["items"]!.AsArray())!["endpointId"]!.GetValue<Guid>());
    }

    [Fact]
    public async Task UsersAndListTargets_Work_UnknownListedEndpoint_Is404()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var android = await gateway.CreateFcmAppAsync(project.Client, Ct);
        var a = await project.Client.CreateEndpointAsync(android, TestCredentials.FcmToken(), Ct, userId: "a");
        var b = await project.Client.CreateEndpointAsync(android, TestCredentials.FcmToken(), Ct, userId: "b");
        var users = await DeliveryGateway.SendAsync(project.Client, new { target = new { userIds = new[] { "a", "b", "nobody" } }, data = new { x = "1" } }, Ct);
        Assert.Equal(2, (await DeliveryGateway.WaitForMessageAsync(project.Client, users, Ct))["counts"]!["delivered"]!.GetValue<long>());

        var list = await DeliveryGateway.SendAsync(project.Client, new { target = new { endpointIds = new[] { a.Id(), b.Id(), a.Id() } }, data = new { x = "1" } }, Ct);
        Assert.Equal(2, (await DeliveryGateway.WaitForMessageAsync(project.Client, list, Ct))["counts"]!["delivered"]!.GetValue<long>());

        var unknown = await project.Client.PostAsJsonAsync("v1/messages", new { target = new { endpointIds = new[] { a.Id(), Guid.NewGuid() } }, data = new { x = "1" } }, Ct);
        await unknown.AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);

        var nobody = await DeliveryGateway.SendAsync(project.Client, new { target = new { userId = "nobody" }, data = new { x = "1" } }, Ct);
        var empty = await DeliveryGateway.WaitForMessageAsync(project.Client, nobody, Ct);
        Assert.Equal(0, empty["counts"]!["total"]!.GetValue<long>());
    }

    [Fact]
    public async Task TopicTarget_FansOutInBatches_AcrossPlatforms_SkipsDisabled()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var ios = await gateway.CreateApnsAppAsync(project.Client, Ct);
        var android = await gateway.CreateFcmAppAsync(project.Client, Ct);
        await project.Client.PutAsync("v1/topics/news", null, Ct);
        // Subscribe endpoints straight in the database to make a topic bigger than one expansion batch (10,000).
        await gateway.ScalarAsync<int>("""
            WITH e AS (
                INSERT INTO endpoints (id, project_id, application_id, token, enabled, created_at, updated_at, token_updated_at)
                SELECT gen_random_uuid(), @p, @a, 'token-' || lpad(g::text, 8, '0'), g % 10 <> 0, now(), now(), now() FROM generate_series(1, 12000) g
                RETURNING id)
            INSERT INTO topic_subscriptions (topic_id, endpoint_id, created_at)
            SELECT t.id, e.id, now() FROM e, topics t WHERE t.project_id = @p AND t.name = 'news'
            """, Ct, ("p", project.ProjectId), ("a", android));
        var apple = await project.Client.CreateEndpointAsync(ios, TestCredentials.ApnsTokenHex(), Ct);
        await project.Client.PutAsync($"v1/topics/news/subscriptions/{apple.Id()}", null, Ct);

        var response = await project.Client.PostAsJsonAsync("v1/messages", new { target = new { topic = "news" }, notification = new { title = "Breaking" } }, Ct);
        var accepted = await response.ReadObjectAsync(Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Null(accepted["targetCount"]);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, accepted.Id(), Ct, timeout: TimeSpan.FromSeconds(90));
        Assert.Equal(12001, message["targetCount"]!.GetValue<int>());
        Assert.Equal(1200, message["counts"]!["skipped"]!.GetValue<long>());
        Assert.Equal(10801, message["counts"]!["delivered"]!.GetValue<long>());
        Assert.Equal(12001, await gateway.ScalarAsync<long>("SELECT count(DISTINCT endpoint_id) FROM deliveries WHERE message_id = @m", Ct, ("m", accepted.Id())));
        Assert.Single(gateway.Simulator.State.GetReceived("apns", apple["token"].Str()).Items);
    }

    [Fact]
    public async Task IdempotencyKey_SameBody_ReplaysAndSendsOnce_OtherBody_422()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var app = await gateway.CreateFcmAppAsync(project.Client, Ct);
        var endpoint = await project.Client.CreateEndpointAsync(app, TestCredentials.FcmToken(), Ct);
        var body = $$$"""{"target":{"endpointId":"{{{endpoint.Id()}}}"},"data":{"n":"1"}}""";
        async Task<HttpResponseMessage> Send(string json, string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = Json.Raw(json) };
            request.Headers.Add("Idempotency-Key", key);
            return await project.Client.SendAsync(request, Ct);
        }

        var first = await Send(body, "order-17");
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var firstText = await first.Content.ReadAsStringAsync(Ct);
        var second = await Send(body, "order-17");
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal(firstText, await second.Content.ReadAsStringAsync(Ct));

        var other = await Send(body.Replace("\"1\"", "\"2\"", StringComparison.Ordinal), "order-17");
        await other.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency-conflict", Ct);

        var id = JsonNode.Parse(firstText)!["id"]!.GetValue<Guid>();
        await DeliveryGateway.WaitForMessageAsync(project.Client, id, Ct);
        Assert.Equal(1, await gateway.ScalarAsync<long>("SELECT count(*) FROM messages WHERE project_id = @p", Ct, ("p", project.ProjectId)));
        Assert.Single(gateway.Simulator.State.GetReceived("fcm", endpoint["token"].Str()).Items);

        // Keys are per project and expire after 24 hours.
        await gateway.ScalarAsync<int>("UPDATE idempotency_keys SET created_at = created_at - interval '25 hours' WHERE project_id = @p", Ct, ("p", project.ProjectId));
        var later = await Send(body, "order-17");
        Assert.NotEqual(firstText, await later.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task IdempotencyKey_Concurrent_OneMessage()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var app = await gateway.CreateFcmAppAsync(project.Client, Ct);
        var endpoint = await project.Client.CreateEndpointAsync(app, TestCredentials.FcmToken(), Ct);
        var body = $$$"""{"target":{"endpointId":"{{{endpoint.Id()}}}"},"data":{"n":"1"}}""";
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = Json.Raw(body) };
            request.Headers.Add("Idempotency-Key", "same-key");
            var response = await project.Client.SendAsync(request, Ct);
            return (response.StatusCode, Text: await response.Content.ReadAsStringAsync(Ct));
        }));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.Single(responses.Select(r => JsonNode.Parse(r.Text)!["id"]!.GetValue<Guid>()).Distinct());
        Assert.Equal(1, await gateway.ScalarAsync<long>("SELECT count(*) FROM messages WHERE project_id = @p", Ct, ("p", project.ProjectId)));
    }

    [Fact]
    public async Task IdempotencyKey_Invalid_Is400()
    {
        var project = await gateway.NewProjectAsync(Ct);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = Json.Raw("""{"target":{"userId":"u"}}""") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", new string('k', 256));
        await (await project.Client.SendAsync(request, Ct)).AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
    }

    [Fact]
    public async Task Batch_ValidatesEachMessage_QueuesTheValidOnes_InOrder()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var app = await gateway.CreateFcmAppAsync(project.Client, Ct);
        var endpoint = await project.Client.CreateEndpointAsync(app, TestCredentials.FcmToken(), Ct);
        var disabled = await project.Client.CreateEndpointAsync(app, TestCredentials.FcmToken(), Ct);
        await project.Client.PatchAsJsonAsync($"v1/endpoints/{disabled.Id()}", new { enabled = false }, Ct);
        var batch = $$$"""
            {"messages":[
              {"target":{"endpointId":"{{{endpoint.Id()}}}"},"data":{"i":"0"}},
              {"target":{"endpointId":"{{{endpoint.Id()}}}"},"data":{"i":7}},
              {"target":{"endpointId":"{{{Guid.NewGuid()}}}"},"data":{"i":"2"}},
              {"target":{"endpointId":"{{{disabled.Id()}}}"},"data":{"i":"3"}},
              {"target":{"endpointId":"{{{endpoint.Id()}}}"},"data":{"i":"4"}},
              {"nonsense":true}
            ]}
            """;
        var response = await project.Client.PostAsync("v1/messages/batch", Json.Raw(batch), Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var responseBody = await response.ReadObjectAsync(Ct);
        var items = responseBody["items"]!.AsArray();
        Assert.Equal(6, items.Count);
        Assert.Equal("accepted", items[0]!["status"].Str());
        Assert.Equal("validation", items[1]!["error"]!["type"].Str());
        Assert.True(items[1]!["error"]!["errors"]!.AsObject().ContainsKey("messages[1].data.i"));
        Assert.Equal("not-found", items[2]!["error"]!["type"].Str());
        Assert.Equal("endpoint-disabled", items[3]!["error"]!["type"].Str());
        Assert.Equal("accepted", items[4]!["status"].Str());
        Assert.Equal("validation", items[5]!["error"]!["type"].Str());

        foreach (var index in new[] { 0, 4 })
        {
            var id = items[index]!["id"]!.GetValue<Guid>();
            Assert.Equal(1, (await DeliveryGateway.WaitForMessageAsync(project.Client, id, Ct))["counts"]!["delivered"]!.GetValue<long>());
        }

        Assert.Equal(2, await gateway.ScalarAsync<long>("SELECT count(*) FROM messages WHERE project_id = @p", Ct, ("p", project.ProjectId)));
        var data = gateway.Simulator.State.GetReceived("fcm", endpoint["token"].Str()).Items.Select(i => JsonNode.Parse(i.Body!.Value.GetRawText())!["message"]!["data"]!["i"].Str()).Order();
        Assert.Equal(["0", "4"], data);
    }

    [Theory]
    [InlineData("""{"messages":[]}""")]
    [InlineData("""{"messages":{}}""")]
    [InlineData("""{}""")]
    public async Task Batch_Malformed_Is400(string json)
    {
        var project = await gateway.NewProjectAsync(Ct);
        await (await project.Client.PostAsync("v1/messages/batch", Json.Raw(json), Ct)).AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
    }

    [Fact]
    public async Task Batch_Over500_Is400()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var messages = string.Join(",", Enumerable.Repeat("""{"target":{"userId":"u"}}""", 501));
        await (await project.Client.PostAsync("v1/messages/batch", Json.Raw($$$"""{"messages":[{{{messages}}}]}"""), Ct))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
    }

    [Fact]
    public async Task Deliveries_Paginate_AndFilterByState()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var app = await gateway.CreateFcmAppAsync(project.Client, Ct);
        for (var i = 0; i < 5; i++)
        {
            await project.Client.CreateEndpointAsync(app, TestCredentials.FcmToken(), Ct, userId: "many");
        }

        var id = await DeliveryGateway.SendAsync(project.Client, new { target = new { userId = "many" }, data = new { x = "1" } }, Ct);
        await DeliveryGateway.WaitForMessageAsync(project.Client, id, Ct);
        var seen = new HashSet<Guid>();
        string? cursor = null;
        do
        {
            var page = await project.Client.GetFromJsonAsync<JsonObject>($"v1/messages/{id}/deliveries?limit=2&state=delivered{(cursor is null ? "" : "&cursor=" + cursor)}", Ct);
            foreach (var item in page!["items"]!.AsArray())
            {
                Assert.Equal("delivered", item!["state"].Str());
                Assert.NotNull(item["lastAttemptAt"]);
                Assert.True(seen.Add(item["endpointId"]!.GetValue<Guid>()));
            }

            cursor = page["nextCursor"]?.GetValue<string>();
        }
        while (cursor is not null);

        Assert.Equal(5, seen.Count);
        await (await project.Client.GetAsync($"v1/messages/{id}/deliveries?state=lost", Ct)).AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
        await (await project.Client.GetAsync($"v1/messages/{id}/deliveries?cursor=%%%", Ct)).AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
    }
}
