using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Events;

/// <summary>Test helpers for the events routes and the events table.</summary>
public static class Webhooks
{
    /// <summary>Sends the application's events to <paramref name="receiver"/> (all types unless given).</summary>
    public static async Task UseReceiverAsync(this HttpClient client, Guid appId, WebhookReceiver receiver, CancellationToken cancellationToken, params string[] types)
    {
        var response = await client.PatchAsJsonAsync($"v1/applications/{appId}", new
        {
            events = new { url = receiver.Url.ToString(), secret = receiver.Secret, types = types.Length == 0 ? null : types },
        }, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static async Task<JsonObject> EventsPageAsync(this HttpClient client, Guid appId, CancellationToken cancellationToken, string query = "")
    {
        var response = await client.GetAsync($"v1/applications/{appId}/events{query}", cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    public static async Task<List<JsonObject>> EventsAsync(this HttpClient client, Guid appId, CancellationToken cancellationToken, string query = "") =>
        (await client.EventsPageAsync(appId, cancellationToken, query))["items"]!.AsArray().Select(i => i!.AsObject()).ToList();

    /// <summary>Polls the events API until every event of the application satisfies <paramref name="done"/>.</summary>
    public static async Task<List<JsonObject>> WaitForEventsAsync(
        this HttpClient client, Guid appId, Func<List<JsonObject>, bool> done, CancellationToken cancellationToken, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var events = await client.EventsAsync(appId, cancellationToken, "?limit=1000");
            if (done(events))
            {
                return events;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for {what ?? "events"}: " + string.Join(", ", events.Select(e => e.ToJsonString())));
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>The endpoint's event ids in outbox sequence order (the order the contract promises).</summary>
    public static async Task<List<string>> EventIdsInOrderAsync(this TestGateway gateway, Guid endpointId, CancellationToken cancellationToken)
    {
        var text = await gateway.ScalarAsync<string>(
            "SELECT coalesce(string_agg(id::text, ',' ORDER BY sequence), '') FROM events WHERE endpoint_id = @id", cancellationToken, ("id", endpointId));
        return string.IsNullOrEmpty(text) ? [] : [.. text.Split(',')];
    }

    /// <summary>
    /// In order, at least once: every expected event arrived, and the receiver never saw an event after a later one
    /// of the same line (a retry of the same event is fine; going back to an earlier one is not).
    /// </summary>
    public static void AssertInOrder(IReadOnlyList<string> expectedOrder, IEnumerable<ReceivedWebhook> received)
    {
        var position = expectedOrder.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        var seen = received.Where(r => r.EventId is not null && position.ContainsKey(r.EventId)).Select(r => position[r.EventId!]).ToList();
        for (var i = 1; i < seen.Count; i++)
        {
            Assert.True(seen[i] >= seen[i - 1], $"event #{seen[i]} arrived after event #{seen[i - 1]}: order {string.Join(",", seen)}");
        }

        Assert.Equal(expectedOrder.Count, seen.Distinct().Count());
    }
}
