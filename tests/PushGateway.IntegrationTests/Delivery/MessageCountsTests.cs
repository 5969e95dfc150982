using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.Simulator;

namespace PushGateway.IntegrationTests.Delivery;

/// <summary>
/// A message's counts are kept as its deliveries change, not recounted on every read. Each test drives deliveries
/// through some of the ways a delivery's state changes (accepted skipped, delivered, failed, retried, expired by TTL in
/// the worker and in the sweeper, held and released, held by a credential failure or the misconfiguration guard) and
/// checks, while they drain and at the end, that the counters say exactly what a recount of the delivery rows says.
/// </summary>
public sealed class MessageCountsTests(MessageCountsTests.Gateway gateway) : IClassFixture<MessageCountsTests.Gateway>
{
    public sealed class Gateway : DeliveryGateway
    {
        protected override IDictionary<string, string?> Settings
        {
            get
            {
                var settings = base.Settings;
                settings["Delivery:MaxAttempts"] = "3";
                settings["Delivery:MisconfigurationMinAnswers"] = "5";
                return settings;
            }
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// Every fan-out of the project whose counters differ from a recount of its delivery rows, in one statement (one
    /// snapshot: exact even while workers write, since counters change in the transactions that change the rows).
    /// Messages to listed endpoints are recounted from their rows by the API itself and must have no counter rows.
    /// </summary>
    private const string MismatchSql = """
        WITH recount AS (
            SELECT m.id, m.target_count::bigint AS total, count(d.id) AS rows,
                   count(d.id) FILTER (WHERE d.state IN ('pending', 'held')) AS pending,
                   count(d.id) FILTER (WHERE d.state = 'delivered') AS delivered,
                   count(d.id) FILTER (WHERE d.state = 'failed') AS failed,
                   count(d.id) FILTER (WHERE d.state = 'expired') AS expired,
                   count(d.id) FILTER (WHERE d.state = 'skipped') AS skipped,
                   max(d.completed_at) AS last
            FROM messages m LEFT JOIN deliveries d ON d.message_id = m.id
            WHERE m.project_id = @p AND m.target_kind NOT IN ('endpoint', 'endpoints') GROUP BY m.id),
        counted AS (
            SELECT m.id, coalesce(sum(c.delivered), 0) AS delivered, coalesce(sum(c.failed), 0) AS failed,
                   coalesce(sum(c.expired), 0) AS expired, coalesce(sum(c.skipped), 0) AS skipped, max(c.last_completed_at) AS last
            FROM messages m LEFT JOIN message_counts c ON c.message_id = m.id
            WHERE m.project_id = @p GROUP BY m.id)
        SELECT string_agg(format('%s: rows (total %s, pending %s, delivered %s, failed %s, expired %s, skipped %s, last %s) counters (pending %s, delivered %s, failed %s, expired %s, skipped %s, last %s)',
                   r.id, r.rows, r.pending, r.delivered, r.failed, r.expired, r.skipped, r.last,
                   r.total - c.delivered - c.failed - c.expired - c.skipped, c.delivered, c.failed, c.expired, c.skipped, c.last), '; ')
        FROM recount r JOIN counted c USING (id)
        WHERE r.rows <> r.total
           OR (r.pending, r.delivered, r.failed, r.expired, r.skipped)
              IS DISTINCT FROM (r.total - c.delivered - c.failed - c.expired - c.skipped, c.delivered, c.failed, c.expired, c.skipped)
           OR (r.pending = 0 AND r.last IS DISTINCT FROM c.last)
        """;

    private async Task AssertConsistentAsync(ProjectContext project)
    {
        var mismatches = await gateway.ScalarAsync<string>(MismatchSql, Ct, ("p", project.ProjectId));
        Assert.True(mismatches is null, "counters differ from the delivery rows: " + mismatches);
        var listedCounted = await gateway.ScalarAsync<long>("""
            SELECT count(*) FROM message_counts c JOIN messages m ON m.id = c.message_id
            WHERE m.project_id = @p AND m.target_kind IN ('endpoint', 'endpoints')
            """, Ct, ("p", project.ProjectId));
        Assert.Equal(0, listedCounted);
    }

    /// <summary>Checks consistency every few milliseconds until every message of the project is completed, then once more.</summary>
    private async Task DrainAsync(ProjectContext project, IEnumerable<Guid> messages, TimeSpan? timeout = null)
    {
        var open = messages.ToHashSet();
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (open.Count > 0)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"messages not completed in time: {string.Join(", ", open)}");
            await AssertConsistentAsync(project);
            foreach (var id in open.ToList())
            {
                if ((await MessageAsync(project, id))["status"].Str() == "completed")
                {
                    open.Remove(id);
                }
            }

            await Task.Delay(20, Ct);
        }

        await AssertConsistentAsync(project);
    }

    private static async Task<JsonObject> MessageAsync(ProjectContext project, Guid id) =>
        (await project.Client.GetFromJsonAsync<JsonObject>($"v1/messages/{id}", Ct))!;

    private static long Count(JsonObject message, string name) => message["counts"]![name]!.GetValue<long>();

    private static void AssertCounts(JsonObject message, long total, long delivered, long failed, long expired, long skipped, long pending = 0)
    {
        var expected = new { total, pending, delivered, failed, expired, skipped };
        var actual = new
        {
            total = Count(message, "total"), pending = Count(message, "pending"), delivered = Count(message, "delivered"),
            failed = Count(message, "failed"), expired = Count(message, "expired"), skipped = Count(message, "skipped"),
        };
        Assert.Equal(expected, actual);
    }

    private static Task<Guid> SendAsync(ProjectContext project, object target, int? ttl = null) =>
        DeliveryGateway.SendAsync(project.Client, ttl is null
            ? new { target, notification = new { title = "t" } }
            : new { target, notification = new { title = "t" }, ttlSeconds = ttl }, Ct);

    private async Task<Guid> EndpointAsync(ProjectContext project, Guid appId, string token, TokenBehavior? behavior = null, string? topic = null, string? userId = null)
    {
        if (behavior is not null)
        {
            gateway.Simulator.State.SetTokenBehavior(token, behavior);
        }

        var id = (await project.Client.CreateEndpointAsync(appId, token, Ct, userId)).Id();
        if (topic is not null)
        {
            var subscribed = await project.Client.PutAsync($"v1/topics/{topic}/subscriptions/{id}", null, Ct);
            Assert.Equal(HttpStatusCode.NoContent, subscribed.StatusCode);
        }

        return id;
    }

    private async Task DisableEndpointAsync(ProjectContext project, Guid endpointId) =>
        Assert.Equal(HttpStatusCode.OK, (await project.Client.PatchAsJsonAsync($"v1/endpoints/{endpointId}", new { enabled = false }, Ct)).StatusCode);

    [Fact]
    public async Task FanOutsAndLists_EveryProviderOutcome_CountersMatchTheRows()
    {
        var project = await gateway.NewProjectAsync(Ct);
        await project.Client.PutAsync("v1/topics/all", null, Ct);
        var ios = await gateway.CreateApnsAppAsync(project.Client, Ct);
        var android = await gateway.CreateFcmAppAsync(project.Client, Ct);
        var ok = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            ok.Add(await EndpointAsync(project, ios, TestCredentials.ApnsTokenHex(), topic: "all", userId: "alice"));
            ok.Add(await EndpointAsync(project, android, TestCredentials.FcmToken(), topic: "all"));
        }

        var disabled = await EndpointAsync(project, ios, TestCredentials.ApnsTokenHex(), topic: "all", userId: "alice");
        await DisableEndpointAsync(project, disabled);
        await EndpointAsync(project, ios, TestCredentials.ApnsTokenHex(), new TokenBehavior { Preset = TokenPresets.Unregistered }, "all");
        await EndpointAsync(project, android, TestCredentials.FcmToken(), new TokenBehavior { Preset = TokenPresets.FcmInvalidPayload }, "all");
        await EndpointAsync(project, ios, TestCredentials.ApnsTokenHex(), new TokenBehavior { Preset = TokenPresets.ServiceUnavailable, Times = 1 }, "all");
        await EndpointAsync(project, android, TestCredentials.FcmToken(), new TokenBehavior { Preset = TokenPresets.FcmUnavailable }, "all");

        var topic = await SendAsync(project, new { topic = "all" });
        var list = await SendAsync(project, new { endpointIds = new[] { ok[0], ok[1], disabled } });
        var user = await SendAsync(project, new { userId = "alice" });
        var single = await SendAsync(project, new { endpointId = ok[2] });
        await DrainAsync(project, [topic, list, user, single]);

        // 6 fine + 1 retried once, 410 and invalid payload failed, transient until the attempt limit failed.
        AssertCounts(await MessageAsync(project, topic), total: 11, delivered: 7, failed: 3, expired: 0, skipped: 1);
        AssertCounts(await MessageAsync(project, list), total: 3, delivered: 2, failed: 0, expired: 0, skipped: 1);
        AssertCounts(await MessageAsync(project, user), total: 4, delivered: 3, failed: 0, expired: 0, skipped: 1);
        AssertCounts(await MessageAsync(project, single), total: 1, delivered: 1, failed: 0, expired: 0, skipped: 0);
        var done = await MessageAsync(project, topic);
        var lastCompleted = await gateway.ScalarAsync<DateTime>("SELECT max(completed_at) FROM deliveries WHERE message_id = @m", Ct, ("m", topic));
        Assert.Equal(new DateTimeOffset(lastCompleted, TimeSpan.Zero), done["completedAt"]!.GetValue<DateTimeOffset>());
    }

    [Fact]
    public async Task ListedMessage_AcceptedUntilAResult_SendingWhileItRetries()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var app = await gateway.CreateApnsAppAsync(project.Client, Ct);
        var retrying = await EndpointAsync(project, app, TestCredentials.ApnsTokenHex(),
            new TokenBehavior { Preset = TokenPresets.ServiceUnavailable, RetryAfter = 30 });
        await project.Client.PatchAsJsonAsync($"v1/applications/{app}", new { enabled = false }, Ct);

        // Held (its application is disabled): no attempt yet, so still accepted.
        var single = await SendAsync(project, new { endpointId = retrying });
        await DeliveryGateway.WaitUntilAsync(async () =>
            await gateway.ScalarAsync<long>("SELECT count(*) FROM deliveries WHERE message_id = @m AND state = 'held'", Ct, ("m", single)) == 1,
            Ct, what: "the delivery held");
        Assert.Equal("accepted", (await MessageAsync(project, single))["status"].Str());

        // Tried once and waiting 30 s to be retried: sending, one pending.
        await project.Client.PatchAsJsonAsync($"v1/applications/{app}", new { enabled = true }, Ct);
        await DeliveryGateway.WaitUntilAsync(async () =>
            await gateway.ScalarAsync<long>("SELECT count(*) FROM deliveries WHERE message_id = @m AND state = 'pending' AND last_attempt_at IS NOT NULL AND lease_owner IS NULL", Ct, ("m", single)) == 1,
            Ct, what: "the first attempt recorded");
        var message = await MessageAsync(project, single);
        Assert.Equal("sending", message["status"].Str());
        AssertCounts(message, total: 1, delivered: 0, failed: 0, expired: 0, skipped: 0, pending: 1);
    }

    [Fact]
    public async Task TtlExpiry_InTheWorkerAndInTheSweeper_AndSkippedAfterRelease_CountersMatchTheRows()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var held = await gateway.CreateFcmAppAsync(project.Client, Ct);
        var heldEndpoint = await EndpointAsync(project, held, TestCredentials.FcmToken());
        var skippedLater = await EndpointAsync(project, held, TestCredentials.FcmToken());
        await project.Client.PatchAsJsonAsync($"v1/applications/{held}", new { enabled = false }, Ct);
        var retrying = await gateway.CreateApnsAppAsync(project.Client, Ct);
        var retryingEndpoint = await EndpointAsync(project, retrying, TestCredentials.ApnsTokenHex(),
            new TokenBehavior { Preset = TokenPresets.ServiceUnavailable, RetryAfter = 1 });

        // Held (its application is disabled) until the sweeper expires it.
        var expiredHeld = await SendAsync(project, new { endpointId = heldEndpoint }, ttl: 1);
        // Retried until its TTL is over: expired by the worker.
        var expiredRetrying = await SendAsync(project, new { endpointId = retryingEndpoint }, ttl: 2);
        // Held, then released when the application is enabled again: its endpoint was disabled meanwhile.
        var released = await SendAsync(project, new { endpointIds = new[] { heldEndpoint, skippedLater } }, ttl: 60);
        await DeliveryGateway.WaitUntilAsync(async () =>
            await gateway.ScalarAsync<long>("SELECT count(*) FROM deliveries WHERE message_id = @m AND state = 'held'", Ct, ("m", released)) == 2,
            Ct, what: "the deliveries held");
        AssertCounts(await MessageAsync(project, released), total: 2, delivered: 0, failed: 0, expired: 0, skipped: 0, pending: 2);
        await DrainAsync(project, [expiredHeld, expiredRetrying]);

        await DisableEndpointAsync(project, skippedLater);
        await project.Client.PatchAsJsonAsync($"v1/applications/{held}", new { enabled = true }, Ct);
        await DrainAsync(project, [released]);

        AssertCounts(await MessageAsync(project, expiredHeld), total: 1, delivered: 0, failed: 0, expired: 1, skipped: 0);
        AssertCounts(await MessageAsync(project, expiredRetrying), total: 1, delivered: 0, failed: 0, expired: 1, skipped: 0);
        AssertCounts(await MessageAsync(project, released), total: 2, delivered: 1, failed: 0, expired: 0, skipped: 1);
    }

    [Fact]
    public async Task CredentialFailureAndMisconfiguration_HeldThenFixed_CountersMatchTheRows()
    {
        var project = await gateway.NewProjectAsync(Ct);
        await project.Client.PutAsync("v1/topics/wrong", null, Ct);
        // Revoked key: the application is disabled and its deliveries held until new credentials come.
        var revoked = await gateway.CreateApnsAppAsync(project.Client, Ct);
        var revokedEndpoint = await EndpointAsync(project, revoked, TestCredentials.ApnsTokenHex());
        var app = (await project.Client.GetFromJsonAsync<JsonObject>($"v1/applications/{revoked}", Ct))!;
        gateway.Simulator.State.RevokeApnsKey(app["credentials"]!["keyId"].Str());
        // Wrong bundle id for every device: the guard trips, holds the rest and restores the endpoints it disabled.
        var wrong = await gateway.CreateApnsAppAsync(project.Client, Ct, bundleId: "com.example.wrong");
        for (var i = 0; i < 30; i++)
        {
            await EndpointAsync(project, wrong, TestCredentials.ApnsTokenHex(), new TokenBehavior { Topic = "com.example.app" }, "wrong");
        }

        var credential = await SendAsync(project, new { endpointId = revokedEndpoint });
        var misconfigured = await SendAsync(project, new { topic = "wrong" });
        await DeliveryGateway.WaitUntilAsync(async () =>
            await gateway.ScalarAsync<long>("SELECT count(*) FROM deliveries WHERE message_id = ANY(@m) AND state = 'held'", Ct,
                ("m", new[] { credential, misconfigured })) >= 15, Ct, what: "the deliveries held");
        await AssertConsistentAsync(project);
        Assert.Equal(1, Count(await MessageAsync(project, credential), "pending"));

        var fixedRevoked = await project.Client.PatchAsJsonAsync($"v1/applications/{revoked}", new { credentials = gateway.NewApnsCredentials() }, Ct);
        Assert.Equal(HttpStatusCode.OK, fixedRevoked.StatusCode);
        await DeliveryGateway.WaitUntilAsync(async () =>
            await gateway.ScalarAsync<long>("SELECT count(*) FROM endpoints WHERE application_id = @a AND enabled", Ct, ("a", wrong)) == 30,
            Ct, what: "the guard's restore");
        var fixedWrong = await project.Client.PatchAsJsonAsync($"v1/applications/{wrong}", new { credentials = gateway.NewApnsCredentials("com.example.app") }, Ct);
        Assert.Equal(HttpStatusCode.OK, fixedWrong.StatusCode);
        await DrainAsync(project, [credential, misconfigured]);

        AssertCounts(await MessageAsync(project, credential), total: 1, delivered: 1, failed: 0, expired: 0, skipped: 0);
        var campaign = await MessageAsync(project, misconfigured);
        Assert.Equal(30, Count(campaign, "delivered") + Count(campaign, "failed"));
        Assert.InRange(Count(campaign, "failed"), 1, 10);
    }
}
