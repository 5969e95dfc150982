using System.Net.Http.Json;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.Simulator;

namespace PushGateway.IntegrationTests.Delivery;

/// <summary>
/// A provider that answers slowly while messages keep trickling in, each claimed as a batch of its own: claims are
/// leases committed at once, so no worker transaction stays open while notifications are sent (the connections and
/// vacuum horizon a slow provider used to hold, one batch each), and all are delivered.
/// </summary>
public sealed class WorkerConnectionTests(WorkerConnectionTests.Gateway gateway) : IClassFixture<WorkerConnectionTests.Gateway>
{
    public sealed class Gateway : DeliveryGateway
    {
        protected override IDictionary<string, string?> Settings
        {
            get
            {
                var settings = base.Settings;
                // Long enough that an application whose provider hangs is plainly told apart from one that answers.
                settings["Delivery:RequestTimeout"] = "00:00:20";
                return settings;
            }
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SlowProvider_TrickleOfMessages_NoWorkerTransactionStaysOpen_AndAllAreDelivered()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct);
        var endpoints = new List<Guid>();
        for (var i = 0; i < 12; i++)
        {
            endpoints.Add((await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct)).Id());
        }

        gateway.Simulator.State.UpdateSettings(new SimulatorSettingsUpdate { LatencyMs = 2500 });
        var messages = new List<Guid>();
        long mostOpen = 0;
        try
        {
            foreach (var endpoint in endpoints)
            {
                messages.Add(await DeliveryGateway.SendAsync(project.Client, new { target = new { endpointId = endpoint }, data = new { n = "1" } }, Ct));
                await Task.Delay(80, Ct);
                mostOpen = Math.Max(mostOpen, await OpenWorkerTransactionsAsync());
            }

            for (var i = 0; i < 10; i++)
            {
                mostOpen = Math.Max(mostOpen, await OpenWorkerTransactionsAsync());
                await Task.Delay(100, Ct);
            }
        }
        finally
        {
            gateway.Simulator.State.UpdateSettings(new SimulatorSettingsUpdate { LatencyMs = 0 });
        }

        // A claim or a result write may be caught committing; nothing stays open across the 2.5 s requests.
        Assert.InRange(mostOpen, 0, 1);
        foreach (var id in messages)
        {
            var message = await DeliveryGateway.WaitForMessageAsync(project.Client, id, Ct, timeout: TimeSpan.FromSeconds(60));
            Assert.Equal(1, message["counts"]!["delivered"]!.GetValue<long>());
        }
    }

    [Fact]
    public async Task HangingApplication_DoesNotHoldUpAnotherApplication()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var hanging = await gateway.CreateApnsAppAsync(project.Client, Ct, bundleId: "com.example.hangs");
        var healthy = await gateway.CreateApnsAppAsync(project.Client, Ct, bundleId: "com.example.fine");
        var pairs = new List<(Guid Hanging, Guid Healthy)>();
        for (var i = 0; i < 8; i++)
        {
            var token = TestCredentials.ApnsTokenHex();
            gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Preset = TokenPresets.Hang });
            pairs.Add(((await project.Client.CreateEndpointAsync(hanging, token, Ct)).Id(),
                (await project.Client.CreateEndpointAsync(healthy, TestCredentials.ApnsTokenHex(), Ct)).Id()));
        }

        // A trickle to both applications: every message to the healthy one must be delivered in far less than the
        // 20 s the hanging one's requests take to time out, also after several of them were sent.
        var started = DateTimeOffset.UtcNow;
        var healthyMessages = new List<Guid>();
        foreach (var (toHanging, toHealthy) in pairs)
        {
            await DeliveryGateway.SendAsync(project.Client, new { target = new { endpointId = toHanging }, data = new { n = "1" } }, Ct);
            await Task.Delay(150, Ct);
            healthyMessages.Add(await DeliveryGateway.SendAsync(project.Client, new { target = new { endpointId = toHealthy }, data = new { n = "1" } }, Ct));
            await Task.Delay(150, Ct);
        }

        foreach (var id in healthyMessages)
        {
            var message = await DeliveryGateway.WaitForMessageAsync(project.Client, id, Ct, timeout: TimeSpan.FromSeconds(60));
            Assert.Equal(1, message["counts"]!["delivered"]!.GetValue<long>());
        }

        var elapsed = DateTimeOffset.UtcNow - started;
        Assert.True(elapsed < TimeSpan.FromSeconds(12), $"the healthy application's messages took {elapsed.TotalSeconds:F1} s");
        foreach (var (toHanging, _) in pairs)
        {
            gateway.Simulator.State.ClearTokenBehavior(await TokenAsync(project, toHanging));
        }
    }

    private static async Task<string> TokenAsync(ProjectContext project, Guid endpointId) =>
        (await project.Client.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>($"v1/endpoints/{endpointId}", Ct))!["token"].Str();

    /// <summary>Worker connections holding a claimed batch (a transaction left open while its notifications are sent).</summary>
    private Task<long> OpenWorkerTransactionsAsync() => gateway.ScalarAsync<long>("""
        SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'pushgateway-worker' AND state = 'idle in transaction'
        """, Ct);
}
