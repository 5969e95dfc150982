using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PushGateway.Events;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Events;

/// <summary>
/// Events that cannot be delivered: a short retry window (<c>Events:RetryWindow</c>) and request timeout so that
/// "failed for good" takes seconds; the retry route; retention.
/// </summary>
public sealed class WebhookFailureTests(WebhookFailureTests.Gateway gateway) : IClassFixture<WebhookFailureTests.Gateway>
{
    public sealed class Gateway : TestGateway
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Delivery:Enabled"] = "false",
            ["Events:PollInterval"] = "00:00:00.050",
            ["Events:RetryWindow"] = "00:00:02",
            ["Events:RetryBaseDelay"] = "00:00:00.200",
            ["Events:RetryMaxDelay"] = "00:00:00.500",
            ["Events:RequestTimeout"] = "00:00:01",
            ["Events:LeaseDuration"] = "00:00:10",
        };
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(ProjectContext Project, Guid AppId)> AppAsync()
    {
        var project = await gateway.NewProjectAsync(Ct);
        return (project, await project.Client.CreateApnsAppAsync(Ct));
    }

    [Fact]
    public async Task EventPastRetryWindow_EndsFailed_VisibleInApi_AndRetryRouteSendsItAgain()
    {
        var (project, appId) = await AppAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, _) => new WebhookAnswer.Status(500);
        await project.Client.UseReceiverAsync(appId, receiver, Ct);
        var endpoint = await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct);

        var events = await project.Client.WaitForEventsAsync(appId, e => e.Count == 1 && e[0]["state"].Str() == "failed", Ct, what: "the event to fail for good");
        var failed = events[0];
        var attempts = failed["attempts"]!.GetValue<int>();
        Assert.True(attempts >= 3, $"only {attempts} attempts in the retry window");
        Assert.Equal("HTTP 500", failed["lastError"].Str());
        Assert.NotNull(failed["completedAt"]);
        Assert.Null(failed["nextAttemptAt"]);
        Assert.Equal(attempts, receiver.Received.Count);
        Assert.All(receiver.Received, r => Assert.True(r.SignatureValid));
        // Failed for good means no more attempts.
        await Task.Delay(500, Ct);
        Assert.Equal(attempts, receiver.Received.Count);

        var listed = Assert.Single(await project.Client.EventsAsync(appId, Ct, "?state=failed"));
        Assert.Equal(failed["id"].Str(), listed["id"].Str());
        Assert.Empty(await project.Client.EventsAsync(appId, Ct, "?state=pending"));

        receiver.Respond = (_, _) => WebhookAnswer.Ok;
        var retry = await project.Client.PostAsync($"v1/applications/{appId}/events/{failed["id"].Str()}/retry", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal($"/v1/applications/{appId}/events/{failed["id"].Str()}", retry.Headers.Location?.OriginalString);
        var accepted = await retry.ReadObjectAsync(Ct);
        Assert.Equal("pending", accepted["state"].Str());
        Assert.Null(accepted["completedAt"]);

        var received = await receiver.WaitForAsync(r => r.Any(x => x.Accepted), Ct, what: "the retried event");
        Assert.Equal(failed["id"].Str(), received.Last().EventId);
        Assert.Equal(endpoint.Id().ToString(), received.Last().Json["endpointId"].Str());
        await project.Client.WaitForEventsAsync(appId, e => e[0]["state"].Str() == "delivered", Ct, what: "the retried event to be delivered");
        var final = (await project.Client.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>($"v1/applications/{appId}/events/{failed["id"].Str()}", Ct))!;
        Assert.Equal("delivered", final["state"].Str());
        Assert.Equal(attempts + 1, final["attempts"]!.GetValue<int>());
        Assert.Equal("HTTP 500", final["lastError"].Str());

        // Only failed events can be retried.
        var again = await project.Client.PostAsync($"v1/applications/{appId}/events/{failed["id"].Str()}/retry", null, Ct);
        await again.AssertProblemAsync(HttpStatusCode.Conflict, "conflict", Ct);
    }

    [Fact]
    public async Task HangingWebhook_TimesOut_AndEndsFailedWithTheFixedConnectionError()
    {
        var (project, appId) = await AppAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, _) => new WebhookAnswer.Hang();
        await project.Client.UseReceiverAsync(appId, receiver, Ct);
        await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct);

        var events = await project.Client.WaitForEventsAsync(appId, e => e.Count == 1 && e[0]["state"].Str() == "failed", Ct, what: "the event to fail for good");
        // The same text as a closed port: no attempt tells an open port from a closed or filtered one.
        Assert.Equal("connection failed", events[0]["lastError"].Str());
        Assert.True(events[0]["attempts"]!.GetValue<int>() >= 2);
    }

    [Fact]
    public async Task UnreachableWebhook_EndsFailedWithConnectionError()
    {
        var (project, appId) = await AppAsync();
        // A port that was free a moment ago: nothing listens there.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var response = await project.Client.PatchAsJsonAsync($"v1/applications/{appId}",
            new { events = new { url = $"http://127.0.0.1:{port}/hook", secret = "0123456789abcdef0123" } }, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct);

        var events = await project.Client.WaitForEventsAsync(appId, e => e.Count == 1 && e[0]["state"].Str() == "failed", Ct, what: "the event to fail for good");
        Assert.Equal("connection failed", events[0]["lastError"].Str());
    }

    [Fact]
    public async Task Retention_DeletesOldDeliveredAndSkipped_KeepsFailedPendingAndRecent()
    {
        var (project, appId) = await AppAsync();
        // With a webhook: an application without one has its events written skipped.
        await using var receiver = await WebhookReceiver.StartAsync();
        await project.Client.UseReceiverAsync(appId, receiver, Ct);
        var old = DateTimeOffset.UtcNow.AddDays(-8);
        var recent = DateTimeOffset.UtcNow.AddDays(-6);
        var rows = new (string State, DateTimeOffset CreatedAt, bool Kept)[]
        {
            ("delivered", old, false),
            ("skipped", old, false),
            ("failed", old, true),
            ("pending", old, true),
            ("delivered", recent, true),
            ("skipped", recent, true),
        };
        var ids = new List<Guid>();
        foreach (var (state, createdAt, _) in rows)
        {
            var id = Guid.NewGuid();
            ids.Add(id);
            // A pending row parked far ahead, so the dispatcher leaves it alone during the test.
            await gateway.ScalarAsync<int>("""
                INSERT INTO events (id, project_id, application_id, endpoint_id, type, payload, created_at, state, attempts, next_attempt_at, completed_at)
                VALUES (@id, @p, @a, NULL, 'endpointCreated', '{}', @created, @state, 0, @next, CASE WHEN @state = 'pending' THEN NULL ELSE @created END)
                """, Ct, ("id", id), ("p", project.ProjectId), ("a", appId), ("created", createdAt), ("state", state), ("next", DateTimeOffset.UtcNow.AddDays(1)));
        }

        var retention = gateway.Services.GetServices<IHostedService>().OfType<EventRetention>().Single();
        Assert.True(await retention.RunOnceAsync(Ct) >= 2);

        for (var i = 0; i < rows.Length; i++)
        {
            var exists = await gateway.ScalarAsync<long>("SELECT count(*) FROM events WHERE id = @id", Ct, ("id", ids[i])) == 1;
            Assert.True(rows[i].Kept == exists, $"{rows[i].State} created {rows[i].CreatedAt:u}: expected {(rows[i].Kept ? "kept" : "deleted")}");
        }
    }
}

/// <summary>The webhook instruments, read from this gateway's own meters (another gateway's in the same test process are ignored).</summary>
public sealed class WebhookMetricsTests(WebhookFailureTests.Gateway gateway) : IClassFixture<WebhookFailureTests.Gateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Outcomes_AreCountedByOutcome_AndRequestsTimed()
    {
        var outcomes = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
        var durations = new System.Collections.Concurrent.ConcurrentBag<double>();
        var scope = gateway.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "PushGateway" && ReferenceEquals(instrument.Meter.Scope, scope)
                && instrument.Name is "pushgateway.webhook.deliveries" or "pushgateway.webhook.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "outcome")
                {
                    outcomes.AddOrUpdate((string)tag.Value!, value, (_, v) => v + value);
                }
            }
        });
        listener.SetMeasurementEventCallback<double>((_, value, _, _) => durations.Add(value));
        listener.Start();

        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        await using var receiver = await WebhookReceiver.StartAsync();
        // endpointCreated: refused once, then delivered; endpointDeleted: not listed, skipped.
        receiver.Respond = (n, _) => n == 0 ? new WebhookAnswer.Status(500) : WebhookAnswer.Ok;
        await project.Client.UseReceiverAsync(appId, receiver, Ct, "endpointCreated");
        var endpoint = await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct);
        await receiver.WaitForAsync(r => r.Any(x => x.Accepted), Ct);
        await project.Client.DeleteAsync($"v1/endpoints/{endpoint.Id()}", Ct);

        // Another application whose webhook always fails: failed once the retry window is over.
        var failingAppId = await project.Client.CreateApnsAppAsync(Ct);
        await using var failing = await WebhookReceiver.StartAsync();
        failing.Respond = (_, _) => new WebhookAnswer.Status(502);
        await project.Client.UseReceiverAsync(failingAppId, failing, Ct);
        await project.Client.CreateEndpointAsync(failingAppId, TestCredentials.ApnsTokenHex(), Ct);

        await project.Client.WaitForEventsAsync(appId, e => e.Count == 2 && e.All(x => x["state"].Str() != "pending"), Ct);
        await project.Client.WaitForEventsAsync(failingAppId, e => e.Count == 1 && e[0]["state"].Str() == "failed", Ct);
        await DeliveryGateway.WaitUntilAsync(() => Task.FromResult(outcomes.GetValueOrDefault("failed") >= 1), Ct, what: "the failed outcome to be counted");

        Assert.True(outcomes.GetValueOrDefault("delivered") >= 1, Describe(outcomes));
        Assert.True(outcomes.GetValueOrDefault("skipped") >= 1, Describe(outcomes));
        // One refusal on the first app, and every attempt but the last on the failing one.
        Assert.True(outcomes.GetValueOrDefault("retried") >= 1 + failing.Received.Count - 1, Describe(outcomes));
        Assert.True(durations.Count >= 2 + failing.Received.Count, $"{durations.Count} durations recorded");
        Assert.All(durations, d => Assert.InRange(d, 0, 5));
    }

    private static string Describe(System.Collections.Concurrent.ConcurrentDictionary<string, long> outcomes) =>
        string.Join(", ", outcomes.Select(o => $"{o.Key}={o.Value}"));
}
