using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Delivery;

/// <summary>
/// Fan-outs answer 202 before their deliveries exist and are expanded after the commit, in batches that each commit
/// their deliveries with the expansion's cursor. Delivery workers are off here: what is checked is the delivery rows
/// (one per endpoint), the message's counts and its receipts range, not the sending (FanOutIdempotencyBatchTests
/// sends a 12,001-endpoint topic end to end).
/// </summary>
public sealed class FanOutExpansionTests(FanOutExpansionTests.Gateway gateway) : IClassFixture<FanOutExpansionTests.Gateway>
{
    private const int Endpoints = 20_000;
    /// <summary>Every tenth seeded endpoint is disabled.</summary>
    private const int Disabled = Endpoints / 10;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Small batches with a pause between them, so that an expansion of 20,000 takes a couple of seconds.</summary>
    private static Dictionary<string, string?> ExpansionSettings(bool expand, int batchSize = 1000, string pause = "00:00:00.050") => new()
    {
        ["Delivery:Enabled"] = "false",
        ["Retention:Enabled"] = "false",
        ["Expansion:Enabled"] = expand ? "true" : "false",
        ["Expansion:BatchSize"] = batchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Expansion:BatchPause"] = pause,
        ["Expansion:PollInterval"] = "00:00:00.050",
        // No workers here to drain the queue: no backpressure either.
        ["Expansion:MaxQueuedAhead"] = "0",
    };

    public sealed class Gateway : TestGateway
    {
        protected override IDictionary<string, string?> Settings => ExpansionSettings(expand: true);
    }

    /// <summary>A gateway on a given database, expanding or not.</summary>
    private sealed class Replica(string connectionString, bool expand, int maxQueuedAhead = 0) : TestGateway
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(ExpansionSettings(expand, batchSize: 500))
        {
            ["Expansion:MaxQueuedAhead"] = maxQueuedAhead.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

        public override async ValueTask InitializeAsync() => await StartAsync(connectionString);
    }

    [Fact]
    public async Task BigTopic_202AtOnce_EveryEndpointOneDelivery_CountsRight_IdempotencyKeyReplays()
    {
        var project = await gateway.NewProjectAsync(Ct);
        await SeedTopicAsync(gateway, project, Ct);
        var body = new { target = new { topic = "everyone" }, notification = new { title = "Big" } };

        var started = Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", "big-once");
        var response = await project.Client.SendAsync(request, Ct);
        var elapsed = Stopwatch.GetElapsedTime(started);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync(Ct);
        var accepted = JsonNode.Parse(text)!.AsObject();
        Assert.Null(accepted["targetCount"]);
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"202 after {elapsed.TotalMilliseconds:F0} ms");

        using var again = new HttpRequestMessage(HttpMethod.Post, "v1/messages") { Content = JsonContent.Create(body) };
        again.Headers.Add("Idempotency-Key", "big-once");
        var replay = await project.Client.SendAsync(again, Ct);
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.Equal(text, await replay.Content.ReadAsStringAsync(Ct));

        var message = await WaitExpandedAsync(project.Client, accepted.Id(), Ct);
        AssertCounts(message);
        await AssertOneDeliveryPerEndpointAsync(gateway, project, accepted.Id(), Ct);
        Assert.Equal(1, await gateway.ScalarAsync<long>("SELECT count(*) FROM messages WHERE project_id = @p", Ct, ("p", project.ProjectId)));
    }

    [Fact]
    public async Task WhileExpanding_GetSaysExpanding_TargetCountNull_CountsGrow()
    {
        var project = await gateway.NewProjectAsync(Ct);
        await SeedTopicAsync(gateway, project, Ct);
        var id = await DeliveryGateway.SendAsync(project.Client, new { target = new { topic = "everyone" }, data = new { k = "v" } }, Ct);

        var seen = new List<(string Status, long Total)>();
        JsonObject message;
        do
        {
            message = (await project.Client.GetFromJsonAsync<JsonObject>($"v1/messages/{id}", Ct))!;
            seen.Add((message["status"].Str(), message["counts"]!["total"]!.GetValue<long>()));
            if (message["status"].Str() == "expanding")
            {
                Assert.Null(message["targetCount"]);
                Assert.Null(message["completedAt"]);
                var counts = message["counts"]!;
                Assert.Equal(counts["total"]!.GetValue<long>(), counts["pending"]!.GetValue<long>() + counts["skipped"]!.GetValue<long>());
            }

            await Task.Delay(100, Ct);
        }
        while (message["status"].Str() == "expanding");

        var expanding = seen.Where(s => s.Status == "expanding").ToList();
        Assert.True(expanding.Count >= 3, $"saw expanding {expanding.Count} time(s): {string.Join(", ", seen)}");
        Assert.Contains(expanding, s => s.Total is > 0 and < Endpoints);
        Assert.Equal(expanding.Select(s => s.Total).Order(), expanding.Select(s => s.Total));
        AssertCounts(message);
        // Skipped targets count as finished, so it is sending (nothing is sent here: no delivery workers).
        Assert.Equal("sending", message["status"].Str());
    }

    [Fact]
    public async Task Ttl_CountsFromAcceptance_NotFromTheBatch()
    {
        var project = await gateway.NewProjectAsync(Ct);
        await SeedTopicAsync(gateway, project, Ct);
        var id = await DeliveryGateway.SendAsync(project.Client, new { target = new { topic = "everyone" }, data = new { k = "v" }, ttlSeconds = 600 }, Ct);
        await WaitExpandedAsync(project.Client, id, Ct);

        var row = await gateway.ScalarAsync<string>("""
            SELECT count(DISTINCT d.expires_at) || ' ' || (min(d.expires_at) = m.created_at + interval '600 seconds')
                   || ' ' || (max(d.next_attempt_at) - m.created_at > interval '500 milliseconds')
            FROM deliveries d JOIN messages m ON m.id = d.message_id
            WHERE d.message_id = @m GROUP BY m.created_at
            """, Ct, ("m", id));
        // One expiry for every delivery, 600 s after the accept, although the last batches were inserted well after it.
        Assert.Equal("1 true true", row);
    }

    [Fact]
    public async Task Backpressure_ExpansionStopsAtTheBoundOfUnclaimedDeliveries_AndGoesOnWhenTheyAreTaken()
    {
        const int Bound = 3000;
        var database = await PostgresServer.Instance.CreateDatabaseAsync(Ct);
        await using var api = new Replica(database, expand: true, maxQueuedAhead: Bound);
        await api.InitializeAsync();
        var project = await api.NewProjectAsync(Ct);
        await SeedTopicAsync(api, project, Ct);
        var id = await DeliveryGateway.SendAsync(project.Client, new { target = new { topic = "everyone" }, data = new { k = "v" } }, Ct);
        Task<long> PendingAsync() => api.ScalarAsync<long>("SELECT count(*) FROM deliveries WHERE message_id = @m AND state = 'pending'", Ct, ("m", id));

        // No workers here: the expansion fills the queue up to the bound and waits (500 a batch, 50 ms apart, it
        // would otherwise be through all 20,000 in a few seconds).
        await DeliveryGateway.WaitUntilAsync(async () => await PendingAsync() >= Bound - 500, Ct, what: "the expansion to reach the bound");
        await Task.Delay(3000, Ct);
        Assert.InRange(await PendingAsync(), Bound - 500, Bound);
        Assert.Equal("expanding", (await project.Client.GetFromJsonAsync<JsonObject>($"v1/messages/{id}", Ct))!["status"].Str());

        // Workers take 2,000 of them (as a claim does: they are no longer due): the expansion tops the queue up again.
        await api.ScalarAsync<int>("""
            UPDATE deliveries SET next_attempt_at = now() + interval '1 hour'
            WHERE id IN (SELECT id FROM deliveries WHERE message_id = @m AND state = 'pending' ORDER BY id LIMIT 2000)
            """, Ct, ("m", id));
        await DeliveryGateway.WaitUntilAsync(async () => await PendingAsync() >= Bound + 1500, Ct, what: "the expansion to go on");
        Assert.True(await PendingAsync() <= Bound + 2000);
    }

    [Fact]
    public async Task GatewayKilledMidExpansion_AnotherFinishesIt_EveryEndpointOnce_CountsRight()
    {
        var database = await PostgresServer.Instance.CreateDatabaseAsync(Ct);
        await using var api = new Replica(database, expand: false);
        await api.InitializeAsync();
        var project = await api.NewProjectAsync(Ct);
        await SeedTopicAsync(api, project, Ct);
        var id = await DeliveryGateway.SendAsync(project.Client, new { target = new { topic = "everyone" }, data = new { k = "v" } }, Ct);
        Assert.Equal(0, await CountAsync(api, id));

        // Slow enough (80 batches, 0.25 s apart) that it is still under way when the process has started and been killed.
        var settings = ExpansionSettings(expand: true, batchSize: 250, pause: "00:00:00.250");
        settings["ConnectionStrings:PushGateway"] = database;
        settings["PushGateway:AdminKey"] = TestGateway.AdminKey;
        settings["PushGateway:EncryptionKey"] = TestGateway.EncryptionKey;
        await using (var doomed = await GatewayProcess.StartAsync(settings, Ct))
        {
            await DeliveryGateway.WaitUntilAsync(async () => await CountAsync(api, id) >= 1000, Ct, what: "the killed process to expand a few batches");
            doomed.Kill();
        }

        var left = await CountAsync(api, id);
        Assert.True(left < Endpoints, $"the expansion finished ({left}) before the process was killed");
        Assert.Equal("expanding", (await project.Client.GetFromJsonAsync<JsonObject>($"v1/messages/{id}", Ct))!["status"].Str());

        // Two replicas finish it at once.
        await using var first = new Replica(database, expand: true);
        await using var second = new Replica(database, expand: true);
        await Task.WhenAll(first.InitializeAsync().AsTask(), second.InitializeAsync().AsTask());
        var message = await WaitExpandedAsync(project.Client, id, Ct);
        AssertCounts(message);
        await AssertOneDeliveryPerEndpointAsync(api, project, id, Ct);
    }

    private static async Task<long> CountAsync(TestGateway gateway, Guid messageId) =>
        await gateway.ScalarAsync<long>("SELECT count(*) FROM deliveries WHERE message_id = @m", Ct, ("m", messageId));

    private static void AssertCounts(JsonObject message)
    {
        Assert.Equal(Endpoints, message["targetCount"]!.GetValue<int>());
        var counts = message["counts"]!;
        Assert.Equal(Endpoints, counts["total"]!.GetValue<long>());
        Assert.Equal(Disabled, counts["skipped"]!.GetValue<long>());
        Assert.Equal(Endpoints - Disabled, counts["pending"]!.GetValue<long>());
    }

    /// <summary>Exactly one delivery per subscribed endpoint, all inside the message's receipts range, none extra.</summary>
    private static async Task AssertOneDeliveryPerEndpointAsync(TestGateway gateway, ProjectContext project, Guid messageId, CancellationToken cancellationToken)
    {
        var summary = await gateway.ScalarAsync<string>("""
            SELECT count(*) || ' ' || count(DISTINCT d.endpoint_id) || ' ' || count(*) FILTER (WHERE d.id BETWEEN m.first_delivery_id AND m.last_delivery_id)
                   || ' ' || count(*) FILTER (WHERE d.state = 'skipped') || ' ' || count(*) FILTER (WHERE d.state = 'skipped' AND e.enabled)
            FROM deliveries d JOIN messages m ON m.id = d.message_id JOIN endpoints e ON e.id = d.endpoint_id
            WHERE d.message_id = @m
            """, cancellationToken, ("m", messageId));
        Assert.Equal($"{Endpoints} {Endpoints} {Endpoints} {Disabled} 0", summary);
        Assert.Equal(0, await gateway.ScalarAsync<long>("""
            SELECT count(*) FROM topic_subscriptions s JOIN topics t ON t.id = s.topic_id
            WHERE t.project_id = @p AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = @m AND d.endpoint_id = s.endpoint_id)
            """, cancellationToken, ("p", project.ProjectId), ("m", messageId)));
        Assert.Equal(0, await gateway.ScalarAsync<long>("SELECT count(*) FROM message_expansions WHERE message_id = @m", cancellationToken, ("m", messageId)));
    }

    private static async Task<JsonObject> WaitExpandedAsync(HttpClient client, Guid messageId, CancellationToken cancellationToken) =>
        await DeliveryGateway.WaitForMessageAsync(client, messageId, cancellationToken, m => m["status"].Str() != "expanding", TimeSpan.FromSeconds(90));

    /// <summary>A topic "everyone" of <see cref="Endpoints"/> FCM endpoints, seeded in SQL; every tenth one disabled.</summary>
    private static async Task SeedTopicAsync(TestGateway gateway, ProjectContext project, CancellationToken cancellationToken)
    {
        var app = await project.Client.CreateFcmAppAsync(cancellationToken);
        (await project.Client.PutAsync("v1/topics/everyone", null, cancellationToken)).EnsureSuccessStatusCode();
        await gateway.ScalarAsync<int>("""
            WITH e AS (
                INSERT INTO endpoints (id, project_id, application_id, token, enabled, created_at, updated_at, token_updated_at)
                SELECT gen_random_uuid(), @p, @a, 'token-' || @a::text || '-' || lpad(g::text, 8, '0'), g % 10 <> 0, now(), now(), now()
                FROM generate_series(1, @n) g
                RETURNING id)
            INSERT INTO topic_subscriptions (topic_id, endpoint_id, created_at)
            SELECT t.id, e.id, now() FROM e, topics t WHERE t.project_id = @p AND t.name = 'everyone'
            """, cancellationToken, ("p", project.ProjectId), ("a", app), ("n", Endpoints));
    }
}
