using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Events;

/// <summary>
/// Several dispatchers on one database: a process killed while its webhook request hangs (its claim comes back when
/// the lease runs out), and two replicas dispatching the same outbox at once (each event once, lines kept in order).
/// </summary>
public sealed class WebhookResilienceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, string?> EventSettings(bool enabled) => new()
    {
        ["Delivery:Enabled"] = "false",
        ["Events:Enabled"] = enabled ? "true" : "false",
        ["Events:PollInterval"] = "00:00:00.020",
        ["Events:RetryBaseDelay"] = "00:00:00.100",
        ["Events:RetryMaxDelay"] = "00:00:00.500",
        ["Events:RequestTimeout"] = "00:00:02",
        ["Events:LeaseDuration"] = "00:00:04",
    };

    /// <summary>A gateway on a given database (several of them share one).</summary>
    private sealed class Replica(string connectionString, bool dispatch) : TestGateway
    {
        protected override IDictionary<string, string?> Settings => EventSettings(dispatch);

        public override async ValueTask InitializeAsync() => await StartAsync(connectionString);
    }

    [Fact]
    public async Task GatewayKilledWhileWebhookHangs_LeaseRunsOut_AnotherReplicaSendsIt()
    {
        var database = await PostgresServer.Instance.CreateDatabaseAsync(Ct);
        await using var api = new Replica(database, dispatch: false);
        await api.InitializeAsync();
        var project = await api.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, _) => new WebhookAnswer.Hang();
        await project.Client.UseReceiverAsync(appId, receiver, Ct);

        var settings = EventSettings(enabled: true);
        settings["ConnectionStrings:PushGateway"] = database;
        settings["PushGateway:AdminKey"] = TestGateway.AdminKey;
        settings["PushGateway:EncryptionKey"] = TestGateway.EncryptionKey;
        // Long enough that the killed process is still waiting for its answer when it dies.
        settings["Events:RequestTimeout"] = "00:00:04";
        settings["Events:LeaseDuration"] = "00:00:08";
        await using (var doomed = await GatewayProcess.StartAsync(settings, Ct))
        {
            await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct);
            await DeliveryGateway.WaitUntilAsync(() => Task.FromResult(receiver.Open == 1), Ct, what: "the first request to hang");
            doomed.Kill();
        }

        var claimed = Assert.Single(await project.Client.EventsAsync(appId, Ct));
        Assert.Equal("pending", claimed["state"].Str());
        Assert.Equal(1, claimed["attempts"]!.GetValue<int>());
        var leaseEnd = claimed["nextAttemptAt"]!.GetValue<DateTimeOffset>();
        Assert.True(leaseEnd > DateTimeOffset.UtcNow, "the killed process's claim should still be leased");

        receiver.Respond = (_, _) => WebhookAnswer.Ok;
        await using var survivor = new Replica(database, dispatch: true);
        await survivor.InitializeAsync();
        var received = await receiver.WaitForAsync(r => r.Any(x => x.Accepted), Ct, TimeSpan.FromSeconds(60), "the event after the lease ran out");
        Assert.Equal(claimed["id"].Str(), received.Last().EventId);
        Assert.True(received.Last().ReceivedAt >= leaseEnd.AddMilliseconds(-100), "sent again before the lease ran out");
        var events = await project.Client.WaitForEventsAsync(appId, e => e[0]["state"].Str() == "delivered", Ct);
        Assert.Equal(2, events[0]["attempts"]!.GetValue<int>());
    }

    [Fact]
    public async Task TwoReplicas_OneDatabase_EachEventAcceptedOnce_InOrderPerEndpoint()
    {
        var database = await PostgresServer.Instance.CreateDatabaseAsync(Ct);
        await using var a = new Replica(database, dispatch: true);
        await a.InitializeAsync();
        await using var b = new Replica(database, dispatch: true);
        await b.InitializeAsync();
        var project = await a.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        await using var receiver = await WebhookReceiver.StartAsync();
        // Every fifth request is refused, so lines keep stalling and resuming while both replicas claim.
        receiver.Respond = (n, _) => n % 5 == 4 ? new WebhookAnswer.Status(500) : WebhookAnswer.Ok;
        await project.Client.UseReceiverAsync(appId, receiver, Ct);

        using var viaB = b.Client(project.Key);
        var endpoints = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            endpoints.Add((await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct)).Id());
        }

        // Changes through both replicas' APIs, interleaved across endpoints.
        for (var round = 0; round < 6; round++)
        {
            foreach (var (endpointId, i) in endpoints.Select((e, i) => (e, i)))
            {
                var client = (round + i) % 2 == 0 ? project.Client : viaB;
                var response = await client.PatchAsJsonAsync($"v1/endpoints/{endpointId}", new { customUserData = $"r{round}" }, Ct);
                response.EnsureSuccessStatusCode();
            }
        }

        var lines = new Dictionary<Guid, List<string>>();
        foreach (var endpointId in endpoints)
        {
            lines[endpointId] = await a.EventIdsInOrderAsync(endpointId, Ct);
            Assert.Equal(7, lines[endpointId].Count);
        }

        var all = lines.Values.SelectMany(l => l).ToHashSet();
        var received = await receiver.WaitForAsync(r => all.All(id => r.Any(x => x.EventId == id && x.Accepted)), Ct, TimeSpan.FromSeconds(60), "all 28 events");
        Assert.All(received, r => Assert.True(r.SignatureValid, $"bad signature on {r.EventId}"));
        foreach (var (endpointId, line) in lines)
        {
            Webhooks.AssertInOrder(line, received.Where(r => r.Json["endpointId"]!.GetValue<Guid>() == endpointId).ToList());
        }

        // Leases and SKIP LOCKED: no event was accepted twice.
        var accepted = received.Where(r => r.Accepted).Select(r => r.EventId).ToList();
        Assert.Equal(accepted.Count, accepted.Distinct().Count());
        var events = await project.Client.WaitForEventsAsync(appId, e => e.Count == 28 && e.All(x => x["state"].Str() == "delivered"), Ct);
        Assert.Equal(received.Count, events.Sum(e => e["attempts"]!.GetValue<int>()));
    }
}
