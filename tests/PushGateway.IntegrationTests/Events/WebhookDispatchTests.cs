using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.Simulator;

namespace PushGateway.IntegrationTests.Events;

/// <summary>
/// The webhook dispatcher end to end: the real gateway (with delivery workers and the APNs/FCM simulator) posting to
/// receivers that run inside the test on real sockets and check every signature themselves.
/// </summary>
public sealed class WebhookDispatchTests(WebhookDispatchTests.Gateway gateway) : IClassFixture<WebhookDispatchTests.Gateway>
{
    public sealed class Gateway : DeliveryGateway
    {
        protected override IDictionary<string, string?> Settings
        {
            get
            {
                var settings = base.Settings;
                settings["Events:PollInterval"] = "00:00:00.050";
                settings["Events:RetryBaseDelay"] = "00:00:00.200";
                settings["Events:RetryMaxDelay"] = "00:00:01";
                settings["Events:RequestTimeout"] = "00:00:05";
                settings["Events:LeaseDuration"] = "00:00:30";
                return settings;
            }
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(ProjectContext Project, Guid AppId)> ApnsAppAsync()
    {
        var project = await gateway.NewProjectAsync(Ct);
        return (project, await gateway.CreateApnsAppAsync(project.Client, Ct));
    }

    private static async Task PatchEndpointAsync(HttpClient client, Guid endpointId, object body)
    {
        var response = await client.PatchAsJsonAsync($"v1/endpoints/{endpointId}", body, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Webhook_IsSignedPostOfStoredPayload_WithEventHeaders()
    {
        var (project, appId) = await ApnsAppAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        await project.Client.UseReceiverAsync(appId, receiver, Ct);
        var token = TestCredentials.ApnsTokenHex();
        var endpoint = await project.Client.CreateEndpointAsync(appId, token, Ct);

        var received = await receiver.WaitForAsync(r => r.Count >= 1, Ct, what: "endpointCreated");
        var hook = Assert.Single(received);
        Assert.True(hook.SignatureValid, $"signature {hook.Signature} does not verify");
        Assert.Matches("^t=[0-9]+,v1=[0-9a-f]{64}$", hook.Signature);
        Assert.Equal("application/json", hook.ContentType);
        Assert.Equal("endpointCreated", hook.EventType);
        var stored = await gateway.ScalarAsync<string>("SELECT payload::text FROM events WHERE endpoint_id = @id", Ct, ("id", endpoint.Id()));
        Assert.Equal(stored, hook.Body);
        var body = hook.Json;
        Assert.Equal(hook.EventId, body["id"].Str());
        Assert.Equal("endpointCreated", body["type"].Str());
        Assert.Equal(project.ProjectId.ToString(), body["projectId"].Str());
        Assert.Equal(appId.ToString(), body["applicationId"].Str());
        Assert.Equal(endpoint.Id().ToString(), body["endpointId"].Str());
        Assert.Equal(token, body["endpoint"]!["token"].Str());
        Assert.Null(body["failure"]);

        var events = await project.Client.WaitForEventsAsync(appId, e => e.Count == 1 && e[0]["state"].Str() == "delivered", Ct);
        var item = events[0];
        Assert.Equal(hook.EventId, item["id"].Str());
        Assert.Equal(endpoint.Id().ToString(), item["endpointId"].Str());
        Assert.Equal(1, item["attempts"]!.GetValue<int>());
        Assert.NotNull(item["completedAt"]);
        Assert.Null(item["nextAttemptAt"]);
        Assert.Null(item["lastError"]);
    }

    [Fact]
    public async Task OneEndpoint_FirstAttemptAnswered500_AllEventsArriveInSequenceOrder()
    {
        var (project, appId) = await ApnsAppAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (n, _) => n == 0 ? new WebhookAnswer.Status(500) : WebhookAnswer.Ok;
        await project.Client.UseReceiverAsync(appId, receiver, Ct);

        // One endpoint changed many times in a row, while its first event is still failing: a line of events.
        var endpoint = await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct);
        for (var i = 0; i < 6; i++)
        {
            await PatchEndpointAsync(project.Client, endpoint.Id(), new { customUserData = "v" + i });
        }

        var (status, _) = await project.Client.RegisterAsync(appId, new { token = TestCredentials.ApnsTokenHex(), endpointId = endpoint.Id(), userId = "alice" }, Ct);
        Assert.Equal(HttpStatusCode.OK, status);
        await PatchEndpointAsync(project.Client, endpoint.Id(), new { enabled = false });

        var expected = await gateway.EventIdsInOrderAsync(endpoint.Id(), Ct);
        Assert.Equal(9, expected.Count);
        var received = await receiver.WaitForAsync(
            r => expected.All(id => r.Any(x => x.EventId == id && x.Accepted)), Ct, what: "every event of the endpoint");

        Assert.All(received, r => Assert.True(r.SignatureValid, $"bad signature on {r.EventId}"));
        // The first attempt was refused; the same event came again before anything later was sent.
        Assert.Equal(expected[0], received[0].EventId);
        Assert.False(received[0].Accepted);
        Assert.Equal(expected[0], received[1].EventId);
        Webhooks.AssertInOrder(expected, received);
        Assert.Equal(expected, received.Where(r => r.Accepted).Select(r => r.EventId!).ToList());
        Assert.Equal(["endpointCreated", .. Enumerable.Repeat("endpointUpdated", 8)], received.Where(r => r.Accepted).Select(r => r.EventType!).ToList());
    }

    [Fact]
    public async Task ServerErrorWithRetryAfter_IsRetriedAfterThatDelay_ThenDelivered()
    {
        var (project, appId) = await ApnsAppAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (n, _) => n == 0 ? new WebhookAnswer.Status(503, RetryAfterSeconds: 2) : WebhookAnswer.Ok;
        await project.Client.UseReceiverAsync(appId, receiver, Ct);
        await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct);

        var received = await receiver.WaitForAsync(r => r.Any(x => x.Accepted), Ct, what: "the retry");
        Assert.Equal(2, received.Count);
        Assert.Equal(received[0].EventId, received[1].EventId);
        // Without Retry-After the first retry would come after 0.1 to 0.2 s.
        var gap = received[1].ReceivedAt - received[0].ReceivedAt;
        Assert.True(gap >= TimeSpan.FromSeconds(1.8), $"retried after {gap.TotalSeconds:0.000} s despite Retry-After: 2");
        Assert.True(received[1].Timestamp >= received[0].Timestamp, "each attempt is signed with its own time");

        var events = await project.Client.WaitForEventsAsync(appId, e => e.Count == 1 && e[0]["state"].Str() == "delivered", Ct);
        Assert.Equal(2, events[0]["attempts"]!.GetValue<int>());
        Assert.StartsWith("HTTP 503", events[0]["lastError"].Str(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NewDeviceRegistered_WakesTheDispatchers_OnlyWhenItsApplicationHasAWebhook()
    {
        var publisher = gateway.Services.GetRequiredService<PushGateway.Hosting.WakeupPublisher>();
        var (project, quietAppId) = await ApnsAppAsync();
        var hookedAppId = await gateway.CreateApnsAppAsync(project.Client, Ct);
        await using var receiver = await WebhookReceiver.StartAsync();
        await project.Client.UseReceiverAsync(hookedAppId, receiver, Ct);
        await Task.Delay(300, Ct);

        var before = publisher.Sent;
        for (var i = 0; i < 3; i++)
        {
            var (status, _) = await project.Client.RegisterAsync(quietAppId, new { token = TestCredentials.ApnsTokenHex() }, Ct);
            Assert.Equal(HttpStatusCode.Created, status);
        }

        await Task.Delay(300, Ct);
        Assert.Equal(before, publisher.Sent);
        // Written completed: skipped, completed when raised, never attempted (as the events trigger writes them).
        Assert.Equal(3, await gateway.ScalarAsync<long>(
            "SELECT count(*) FROM events WHERE application_id = @a AND type = 'endpointCreated' AND state = 'skipped' AND completed_at = created_at AND attempts = 0",
            Ct, ("a", quietAppId)));

        await project.Client.RegisterAsync(hookedAppId, new { token = TestCredentials.ApnsTokenHex() }, Ct);
        await receiver.WaitForAsync(r => r.Any(x => x.Accepted), Ct);
        Assert.True(publisher.Sent > before, "the event of an application with a webhook sent no wake-up");
    }

    [Fact]
    public async Task UnlistedTypes_AreSkipped_AndNeverSent_AppsWithoutWebhookToo()
    {
        var (project, appId) = await ApnsAppAsync();
        var quietAppId = await gateway.CreateApnsAppAsync(project.Client, Ct);
        await using var receiver = await WebhookReceiver.StartAsync();
        await project.Client.UseReceiverAsync(appId, receiver, Ct, "endpointDeleted");

        var endpoint = await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct);
        await PatchEndpointAsync(project.Client, endpoint.Id(), new { customUserData = "x" });
        Assert.Equal(HttpStatusCode.NoContent, (await project.Client.DeleteAsync($"v1/endpoints/{endpoint.Id()}", Ct)).StatusCode);
        await project.Client.CreateEndpointAsync(quietAppId, TestCredentials.ApnsTokenHex(), Ct);

        var events = await project.Client.WaitForEventsAsync(appId, e => e.Count == 3 && e.All(x => x["state"].Str() != "pending"), Ct);
        Assert.Equal(["skipped", "skipped", "delivered"], events.Select(e => e["state"].Str()).ToList());
        Assert.All(events.Take(2), e => Assert.Equal(0, e["attempts"]!.GetValue<int>()));
        Assert.All(events, e => Assert.NotNull(e["completedAt"]));
        var quiet = await project.Client.WaitForEventsAsync(quietAppId, e => e.Count == 1 && e[0]["state"].Str() == "skipped", Ct, what: "the event of an app without webhook to be skipped");
        Assert.Equal("endpointCreated", quiet[0]["type"].Str());
        // Written skipped (completed when raised), not left for the dispatcher to claim and skip later.
        Assert.True(await gateway.ScalarAsync<bool>("SELECT bool_and(completed_at = created_at) FROM events WHERE application_id = @a", Ct, ("a", quietAppId)));

        var hook = Assert.Single(receiver.Received);
        Assert.Equal("endpointDeleted", hook.EventType);
        Assert.True(hook.SignatureValid);
    }

    [Fact]
    public async Task HangingWebhook_DoesNotDelayMessageDeliveries_NorOtherApplicationsWebhooks()
    {
        var (project, hangingAppId) = await ApnsAppAsync();
        await using var hanging = await WebhookReceiver.StartAsync();
        hanging.Respond = (_, _) => new WebhookAnswer.Hang();
        await project.Client.UseReceiverAsync(hangingAppId, hanging, Ct);
        var endpoints = new List<JsonObject>();
        for (var i = 0; i < 12; i++)
        {
            endpoints.Add(await project.Client.CreateEndpointAsync(hangingAppId, TestCredentials.ApnsTokenHex(), Ct));
        }

        // The hanging webhook holds its application's slots (4 by default) and no more.
        await DeliveryGateway.WaitUntilAsync(() => Task.FromResult(hanging.Open >= 4), Ct, what: "the hanging webhook to hold its slots");
        Assert.InRange(hanging.Received.Count, 4, 4);

        // Delivery is not held up: a message to an endpoint of the very same application goes out at once.
        var sent = Stopwatch.StartNew();
        var messageId = await DeliveryGateway.SendAsync(project.Client, new { target = new { endpointId = endpoints[0].Id() }, notification = new { title = "hi" } }, Ct);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct, timeout: TimeSpan.FromSeconds(10));
        Assert.Equal(1, message["counts"]!["delivered"]!.GetValue<long>());
        Assert.True(sent.Elapsed < TimeSpan.FromSeconds(3), $"delivery took {sent.Elapsed.TotalSeconds:0.00} s while a webhook hangs");

        // Nor is another application's webhook.
        var otherAppId = await gateway.CreateApnsAppAsync(project.Client, Ct);
        await using var healthy = await WebhookReceiver.StartAsync();
        await project.Client.UseReceiverAsync(otherAppId, healthy, Ct);
        var created = Stopwatch.StartNew();
        await project.Client.CreateEndpointAsync(otherAppId, TestCredentials.ApnsTokenHex(), Ct);
        await healthy.WaitForAsync(r => r.Any(x => x.Accepted), Ct, TimeSpan.FromSeconds(10), "the healthy application's webhook");
        Assert.True(created.Elapsed < TimeSpan.FromSeconds(2), $"the healthy webhook waited {created.Elapsed.TotalSeconds:0.00} s behind a hanging one");
        Assert.True(hanging.Open > 0, "the hanging webhook should still be hanging, or this proves nothing");
        Assert.True(hanging.Received.Count <= 8, $"the hanging webhook got {hanging.Received.Count} requests in a few seconds");

        // Once it answers again, everything it missed arrives.
        hanging.Respond = (_, _) => WebhookAnswer.Ok;
        await hanging.WaitForAsync(r => r.Where(x => x.Accepted).Select(x => x.EventId).Distinct().Count() >= 12, Ct, TimeSpan.FromSeconds(30), "the backlog after the hang");
    }

    [Fact]
    public async Task DeliveryFailure_ApnsUnregistered_ReachesWebhookWithFailureObject()
    {
        var (project, appId) = await ApnsAppAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        await project.Client.UseReceiverAsync(appId, receiver, Ct, "deliveryFailure", "endpointUpdated");
        var token = TestCredentials.ApnsTokenHex();
        var endpoint = await project.Client.CreateEndpointAsync(appId, token, Ct);
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Preset = TokenPresets.Unregistered, Timestamp = DateTimeOffset.UtcNow.AddSeconds(5).ToUnixTimeMilliseconds() });

        var messageId = await DeliveryGateway.SendAsync(project.Client, new { target = new { endpointId = endpoint.Id() }, notification = new { title = "t" } }, Ct);
        var received = await receiver.WaitForAsync(r => r.Any(x => x.EventType == "deliveryFailure" && x.Accepted), Ct, what: "deliveryFailure");

        var failure = received.Single(r => r.EventType == "deliveryFailure");
        Assert.True(failure.SignatureValid);
        var body = failure.Json;
        Assert.Equal("deliveryFailure", body["type"].Str());
        Assert.Equal(endpoint.Id().ToString(), body["endpointId"].Str());
        Assert.Equal("Unregistered", body["failure"]!["reason"].Str());
        Assert.Equal(410, body["failure"]!["providerStatus"]!.GetValue<int>());
        Assert.Equal(messageId.ToString(), body["failure"]!["messageId"].Str());
        Assert.False(body["endpoint"]!["enabled"]!.GetValue<bool>());

        // The disable (endpointUpdated) and the failure are one line: they arrive in the order they were written.
        var expected = await gateway.EventIdsInOrderAsync(endpoint.Id(), Ct);
        var all = await receiver.WaitForAsync(r => r.Count(x => x.Accepted) >= 2, Ct, what: "endpointUpdated");
        Webhooks.AssertInOrder(expected.Where(id => all.Any(r => r.EventId == id)).ToList(), all);
        Assert.Contains(all, r => r.EventType == "endpointUpdated" && r.Json["endpoint"]!["disabledReason"].Str() == "apns:410:Unregistered");
        // endpointCreated was not listed.
        Assert.DoesNotContain(all, r => r.EventType == "endpointCreated");
    }
}
