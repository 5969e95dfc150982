using System.Diagnostics;
using System.Globalization;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.Simulator;

namespace PushGateway.IntegrationTests.Delivery;

/// <summary>
/// Fairness between tenants and between applications, small: while one project's fan-out drains (a slow provider:
/// 20 ms a request, 20 requests in flight per application, so about 1,000 deliveries/s), single messages of another
/// project and of another application of the same project are delivered within 2 s each, not after the fan-out.
/// </summary>
public sealed class FairnessTests(FairnessTests.Gateway gateway) : IClassFixture<FairnessTests.Gateway>
{
    private const int FanOut = 10_000;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public sealed class Gateway : DeliveryGateway
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
        {
            ["Delivery:PerApplicationConcurrency"] = "20",
            ["Delivery:MaxInFlight"] = "400",
            ["Delivery:BatchSize"] = "100",
            ["Expansion:BatchSize"] = "1000",
            ["Expansion:MaxQueuedAhead"] = "2000",
        };
    }

    private Task<long> CountAsync(string sql, params (string, object)[] parameters) => gateway.ScalarAsync<long>(sql, Ct, parameters);

    [Fact]
    public async Task WhileAFanOutDrains_SingleMessagesOfOtherTenantsAndApplications_AreDeliveredWithinTwoSeconds()
    {
        var big = await gateway.NewProjectAsync(Ct);
        var bigApp = await gateway.CreateApnsAppAsync(big.Client, Ct);
        (await big.Client.PutAsync("v1/topics/everyone", null, Ct)).EnsureSuccessStatusCode();
        await gateway.ScalarAsync<int>("""
            WITH e AS (
                INSERT INTO endpoints (id, project_id, application_id, token, enabled, created_at, updated_at, token_updated_at)
                SELECT gen_random_uuid(), @p, @a, md5(@a::text || g::text) || md5(g::text), true, now(), now(), now()
                FROM generate_series(1, @n) g
                RETURNING id)
            INSERT INTO topic_subscriptions (topic_id, endpoint_id, created_at)
            SELECT t.id, e.id, now() FROM e, topics t WHERE t.project_id = @p AND t.name = 'everyone'
            """, Ct, ("p", big.ProjectId), ("a", bigApp), ("n", FanOut));

        // The same project's other application, and another project.
        var sibling = await gateway.CreateApnsAppAsync(big.Client, Ct, bundleId: "com.example.other");
        var (_, siblingEndpoint) = await big.Client.RegisterAsync(sibling, new { token = TestCredentials.ApnsTokenHex() }, Ct);
        var small = await gateway.NewProjectAsync(Ct);
        var smallApp = await gateway.CreateApnsAppAsync(small.Client, Ct);
        var (_, smallEndpoint) = await small.Client.RegisterAsync(smallApp, new { token = TestCredentials.ApnsTokenHex() }, Ct);

        gateway.Simulator.State.UpdateSettings(new SimulatorSettingsUpdate { LatencyMs = 20 });
        try
        {
            var fanOut = await DeliveryGateway.SendAsync(big.Client, new { target = new { topic = "everyone" }, notification = new { title = "Sale", body = "Everything" } }, Ct);
            await DeliveryGateway.WaitUntilAsync(async () => await CountAsync(
                "SELECT count(*) FROM deliveries WHERE message_id = @m AND state = 'delivered'", ("m", fanOut)) >= 500, Ct, TimeSpan.FromSeconds(60), "the fan-out draining");

            var latencies = new List<double>();
            for (var i = 0; i < 20; i++)
            {
                var (client, endpoint) = i % 2 == 0 ? (small.Client, smallEndpoint) : (big.Client, siblingEndpoint);
                var started = Stopwatch.StartNew();
                var id = await DeliveryGateway.SendAsync(client, new { target = new { endpointId = endpoint["endpoint"]!.AsObject().Id() }, notification = new { title = "Hi", body = $"probe {i}" } }, Ct);
                await DeliveryGateway.WaitUntilAsync(async () => await CountAsync(
                    "SELECT count(*) FROM deliveries WHERE message_id = @m AND state = 'delivered'", ("m", id)) == 1, Ct, TimeSpan.FromSeconds(60), $"probe {i} delivered");
                latencies.Add(started.Elapsed.TotalSeconds);
                await Task.Delay(100, Ct);
            }

            // The probes overlapped the fan-out: it was still draining after the last one.
            var left = await CountAsync("SELECT count(*) FROM deliveries WHERE message_id = @m AND state = 'pending'", ("m", fanOut));
            var expanding = await CountAsync("SELECT count(*) FROM message_expansions WHERE message_id = @m", ("m", fanOut));
            TestContext.Current.TestOutputHelper?.WriteLine(FormattableString.Invariant(
                $"probe latencies (s): {string.Join(' ', latencies.Select(l => l.ToString("F2", CultureInfo.InvariantCulture)))}; fan-out left {left} pending, still expanding: {expanding > 0}"));
            Assert.True(left > 0 || expanding > 0, "the fan-out finished before the probes: nothing was measured");
            Assert.True(latencies.Max() < 2.0, $"slowest probe {latencies.Max():F2} s (all: {string.Join(", ", latencies.Select(l => l.ToString("F2", CultureInfo.InvariantCulture)))})");
        }
        finally
        {
            gateway.Simulator.State.UpdateSettings(new SimulatorSettingsUpdate { LatencyMs = 0 });
        }
    }
}
