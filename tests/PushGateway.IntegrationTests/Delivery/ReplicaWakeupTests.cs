using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PushGateway.Hosting;
using PushGateway.IntegrationTests.Events;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Delivery;

/// <summary>
/// Replicas that wake each other (LISTEN/NOTIFY): replica A takes the requests and runs no delivery workers nor webhook
/// dispatcher; replica B, its own process on the same database, runs both with every poll interval at 30 s, so only a
/// wake-up from A can explain B picking work up within a few seconds.
/// </summary>
public sealed class ReplicaWakeupTests(ReplicaWakeupTests.Replicas replicas) : IClassFixture<ReplicaWakeupTests.Replicas>
{
    /// <summary>Far above any bound asserted here: polling cannot explain a pickup within those.</summary>
    private const string SlowPoll = "00:00:30";

    /// <summary>
    /// The bound on one pickup (202 at A → the simulator or receiver has it). Idle, it takes milliseconds; this leaves
    /// room for a loaded 2-core machine and is still a tenth of the poll interval.
    /// </summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(3);

    /// <summary>A measured pickup that takes longer has failed anyway; a third of the poll, so polling cannot pass it.</summary>
    private static readonly TimeSpan MeasuredTimeout = TimeSpan.FromSeconds(10);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A (in process, API only) and B (a gateway process with workers and slow polls) on one database.</summary>
    public sealed class Replicas : DeliveryGateway
    {
        public GatewayProcess B { get; private set; } = null!;

        protected override IDictionary<string, string?> Settings
        {
            get
            {
                var settings = base.Settings;
                settings["Delivery:Enabled"] = "false";
                settings["Events:Enabled"] = "false";
                // No idle check of the listeners' sessions during the tests: pg_stat_activity keeps showing their LISTEN.
                settings["Wakeup:ListenerCheckInterval"] = "00:10:00";
                return settings;
            }
        }

        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            B = await GatewayProcess.StartAsync(new Dictionary<string, string?>
            {
                ["ConnectionStrings:PushGateway"] = ConnectionString,
                ["PushGateway:AdminKey"] = AdminKey,
                ["PushGateway:EncryptionKey"] = EncryptionKey,
                ["Apns:ProductionUrl"] = Simulator.ApnsProductionUrl.ToString(),
                ["Apns:SandboxUrl"] = Simulator.ApnsSandboxUrl.ToString(),
                ["Fcm:BaseUrl"] = Simulator.FcmUrl.ToString(),
                ["Fcm:TokenUrl"] = Simulator.FcmTokenUrl.ToString(),
                ["Providers:TrustedCertificatePath"] = Simulator.CertificatePath,
                ["Delivery:PollInterval"] = SlowPoll,
                ["Expansion:PollInterval"] = SlowPoll,
                ["Events:PollInterval"] = SlowPoll,
                ["Logging:LogLevel:PushGateway.Hosting.WakeupListener"] = "Information",
                ["Wakeup:ListenerCheckInterval"] = "00:10:00",
            }, CancellationToken.None);
        }

        public override async ValueTask DisposeAsync()
        {
            await B.DisposeAsync();
            await base.DisposeAsync();
        }

        /// <summary>B's listening session (its pid), once it is there and not <paramref name="not"/>.</summary>
        public async Task<int> ListenerPidAsync(int? not, CancellationToken cancellationToken)
        {
            var pid = 0;
            await WaitUntilAsync(async () =>
            {
                pid = await ScalarAsync<int>(
                    "SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE application_name = @name AND backend_type = 'client backend' AND pid <> @not",
                    cancellationToken, ("name", $"PushGateway wakeup listener {B.ProcessId}"), ("not", not ?? 0));
                return pid != 0;
            }, cancellationToken, TimeSpan.FromSeconds(30), "replica B's wake-up listener");
            return pid;
        }
    }

    private async Task<(ProjectContext Project, Guid AppId)> AppAsync()
    {
        var project = await replicas.NewProjectAsync(Ct);
        return (project, await replicas.CreateApnsAppAsync(project.Client, Ct));
    }

    /// <summary>Sends one notification through A; returns when the simulator got it, measured from A's 202.</summary>
    private async Task<TimeSpan> SendAndTimeAsync(HttpClient client, Guid endpointId, string token, TimeSpan timeout)
    {
        var before = replicas.Simulator.State.GetReceived("apns", token, 1000).Items.Count;
        await DeliveryGateway.SendAsync(client, new { target = new { endpointId }, notification = new { title = "wake up" } }, Ct);
        var accepted = DateTimeOffset.UtcNow;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            var received = replicas.Simulator.State.GetReceived("apns", token, 1000).Items;
            if (received.Count > before)
            {
                return received.Max(r => r.ReceivedAt) - accepted;
            }

            await Task.Delay(2, Ct);
        }

        Assert.Fail($"replica B did not send the message within {timeout.TotalSeconds} s of its acceptance by A (B's poll interval is {SlowPoll})");
        return timeout;
    }

    private static void AssertPickups(string what, List<TimeSpan> latencies)
    {
        var ms = latencies.Select(l => l.TotalMilliseconds).Order().ToList();
        TestContext.Current.TestOutputHelper?.WriteLine($"{what}: pickup latency A → B, ms: {string.Join(", ", ms.Select(m => m.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)))}");
        Assert.All(latencies, l => Assert.True(l < Bound, $"{what}: a pickup took {l.TotalMilliseconds:F0} ms (bound {Bound.TotalMilliseconds} ms; all: {string.Join(", ", ms)})"));
        Assert.True(ms[ms.Count / 2] < 1000, $"{what}: median pickup {ms[ms.Count / 2]:F0} ms");
    }

    [Fact]
    public async Task MessageAcceptedByApiOnlyReplica_IsSentByTheOtherReplica_WithinABoundFarBelowItsPoll()
    {
        await replicas.ListenerPidAsync(null, Ct);
        var (project, appId) = await AppAsync();
        var token = TestCredentials.ApnsTokenHex();
        var endpointId = (await project.Client.CreateEndpointAsync(appId, token, Ct)).Id();

        // The first send also warms B up (TLS to the simulator, the provider token, the JIT): not measured.
        await SendAndTimeAsync(project.Client, endpointId, token, TimeSpan.FromSeconds(45));
        var latencies = new List<TimeSpan>();
        for (var i = 0; i < 5; i++)
        {
            latencies.Add(await SendAndTimeAsync(project.Client, endpointId, token, MeasuredTimeout));
            await Task.Delay(200, Ct); // idle in between: each pickup needs its own wake-up
        }

        AssertPickups("deliveries", latencies);
    }

    [Fact]
    public async Task ApiOnlyReplica_ListensOnlyForExpansions_WorkerReplicaForEverything()
    {
        // A (in this process, API only) still expands fan-outs, so it listens for those alone.
        var listener = replicas.Services.GetServices<IHostedService>().OfType<WakeupListener>().Single();
        Assert.Equal([WakeupChannels.Expansions], listener.Channels);
        // B's session: one LISTEN per channel, in order; pg_stat_activity shows the last of them (the events').
        var pid = await replicas.ListenerPidAsync(null, Ct);
        Assert.Equal("LISTEN pushgateway_events", await replicas.ScalarAsync<string>("SELECT query FROM pg_stat_activity WHERE pid = @pid", Ct, ("pid", pid)));
    }

    [Fact]
    public async Task EventWrittenByReplicaWithoutDispatcher_IsPostedByTheOtherReplica_WithinABoundFarBelowItsPoll()
    {
        // Seven endpoints: the first warms B up, then three through each route.
        var (project, appId) = await AppAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        await project.Client.UseReceiverAsync(appId, receiver, Ct, "endpointCreated");
        await replicas.ListenerPidAsync(null, Ct);

        var latencies = new List<TimeSpan>();
        for (var i = 0; i < 7; i++)
        {
            // A new endpoint through A writes an endpointCreated event in the same transaction: by turns through
            // POST …/endpoints (the registry's EF unit of work) and POST …/registrations (one plain SQL statement).
            JsonObject endpoint;
            if (i % 2 == 0)
            {
                endpoint = await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct);
            }
            else
            {
                var (status, body) = await project.Client.RegisterAsync(appId, new { token = TestCredentials.ApnsTokenHex() }, Ct);
                Assert.Equal(HttpStatusCode.Created, status);
                endpoint = body["endpoint"]!.AsObject();
            }

            var created = DateTimeOffset.UtcNow;
            var received = await receiver.WaitForAsync(r => r.Any(h => h.Json["endpointId"].Str() == endpoint.Id().ToString()), Ct,
                i == 0 ? TimeSpan.FromSeconds(45) : MeasuredTimeout, "the endpointCreated webhook from replica B");
            if (i > 0)
            {
                // The first one warmed B's dispatcher up (its HTTP client, the JIT): not measured.
                latencies.Add(received.Single(h => h.Json["endpointId"].Str() == endpoint.Id().ToString()).ReceivedAt - created);
            }

            await Task.Delay(200, Ct);
        }

        AssertPickups("webhook events", latencies);
    }

    [Fact]
    public async Task ListenerSessionTerminated_Reconnects_AndPickupsStayFast()
    {
        var (project, appId) = await AppAsync();
        var token = TestCredentials.ApnsTokenHex();
        var endpointId = (await project.Client.CreateEndpointAsync(appId, token, Ct)).Id();
        var old = await replicas.ListenerPidAsync(null, Ct);
        await SendAndTimeAsync(project.Client, endpointId, token, TimeSpan.FromSeconds(45));

        Assert.True(await replicas.ScalarAsync<bool>("SELECT pg_terminate_backend(@pid)", Ct, ("pid", old)));
        var again = await replicas.ListenerPidAsync(old, Ct);
        Assert.NotEqual(old, again);

        var latencies = new List<TimeSpan>();
        for (var i = 0; i < 3; i++)
        {
            latencies.Add(await SendAndTimeAsync(project.Client, endpointId, token, MeasuredTimeout));
            await Task.Delay(200, Ct);
        }

        AssertPickups("after reconnect", latencies);
        // Said once when the session was lost, and once when it was back: not a line per attempt.
        await DeliveryGateway.WaitUntilAsync(() => Task.FromResult(replicas.B.Output.Contains("listening again", StringComparison.Ordinal)), Ct,
            TimeSpan.FromSeconds(10), "the listener's reconnect in B's log");
        Assert.Equal(1, CountOf(replicas.B.Output, "lost its PostgreSQL session"));
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
