using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Events;

/// <summary>The events routes: listing with filters and keyset pagination, one event, retry, and their errors.</summary>
public sealed class EventsApiTests(EventsApiTests.Gateway gateway) : IClassFixture<EventsApiTests.Gateway>
{
    public sealed class Gateway : TestGateway
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Delivery:Enabled"] = "false",
            ["Events:PollInterval"] = "00:00:00.050",
        };
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>An application with four finished events: three endpointCreated delivered, one endpointDeleted skipped.</summary>
    private async Task<(ProjectContext Project, Guid AppId, List<JsonObject> Events)> AppWithEventsAsync()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var receiver = await WebhookReceiver.StartAsync();
        await using (receiver)
        {
            await project.Client.UseReceiverAsync(appId, receiver, Ct, "endpointCreated");
            var endpoints = new List<JsonObject>();
            for (var i = 0; i < 3; i++)
            {
                endpoints.Add(await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct));
            }

            Assert.Equal(HttpStatusCode.NoContent, (await project.Client.DeleteAsync($"v1/endpoints/{endpoints[2].Id()}", Ct)).StatusCode);
            var events = await project.Client.WaitForEventsAsync(appId, e => e.Count == 4 && e.All(x => x["state"].Str() != "pending"), Ct);
            return (project, appId, events);
        }
    }

    [Fact]
    public async Task List_FiltersByStateAndType_PaginatesByKeyset()
    {
        var (project, appId, events) = await AppWithEventsAsync();
        Assert.Equal(["endpointCreated", "endpointCreated", "endpointCreated", "endpointDeleted"], events.Select(e => e["type"].Str()).ToList());

        Assert.Equal(3, (await project.Client.EventsAsync(appId, Ct, "?state=delivered")).Count);
        var skipped = Assert.Single(await project.Client.EventsAsync(appId, Ct, "?state=skipped"));
        Assert.Equal("endpointDeleted", skipped["type"].Str());
        Assert.Equal(events[3]["id"].Str(), Assert.Single(await project.Client.EventsAsync(appId, Ct, "?type=endpointDeleted"))["id"].Str());
        Assert.Empty(await project.Client.EventsAsync(appId, Ct, "?state=delivered&type=endpointDeleted"));

        var first = await project.Client.EventsPageAsync(appId, Ct, "?limit=3");
        Assert.Equal(3, first["items"]!.AsArray().Count);
        var cursor = first["nextCursor"].Str();
        var second = await project.Client.EventsPageAsync(appId, Ct, $"?limit=3&cursor={Uri.EscapeDataString(cursor)}");
        Assert.Null(second["nextCursor"]);
        var paged = first["items"]!.AsArray().Concat(second["items"]!.AsArray()).Select(i => i!["id"].Str()).ToList();
        Assert.Equal(events.Select(e => e["id"].Str()).ToList(), paged);

        // Fields of one item.
        var item = events[0];
        foreach (var field in new[] { "id", "type", "endpointId", "state", "attempts", "createdAt", "completedAt", "nextAttemptAt", "lastError" })
        {
            Assert.True(item.ContainsKey(field), $"missing {field}");
        }
    }

    [Theory]
    [InlineData("?state=sent", "state")]
    [InlineData("?type=endpointMoved", "type")]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=1001", "limit")]
    [InlineData("?limit=ten", "limit")]
    [InlineData("?cursor=not-a-cursor!", "cursor")]
    public async Task List_BadQueryValues_Answer400Problem(string query, string field)
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var response = await project.Client.GetAsync($"v1/applications/{appId}/events{query}", Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
        Assert.NotNull(problem["errors"]![field]);
    }

    [Fact]
    public async Task Routes_AnotherProjectsApplicationOrUnknownEvent_Answer404()
    {
        var (project, appId, events) = await AppWithEventsAsync();
        var stranger = await gateway.NewProjectAsync(Ct);
        var eventId = events[0]["id"].Str();

        await (await stranger.Client.GetAsync($"v1/applications/{appId}/events", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await stranger.Client.GetAsync($"v1/applications/{appId}/events/{eventId}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await stranger.Client.PostAsync($"v1/applications/{appId}/events/{eventId}/retry", null, Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await project.Client.GetAsync($"v1/applications/{Guid.NewGuid()}/events", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await project.Client.GetAsync($"v1/applications/{appId}/events/{Guid.NewGuid()}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await project.Client.PostAsync($"v1/applications/{appId}/events/{Guid.NewGuid()}/retry", null, Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);

        // Without a key, or with the admin key: the usual 401 / 403.
        using var anonymous = gateway.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"v1/applications/{appId}/events", Ct)).StatusCode);
        using var admin = gateway.Admin();
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.GetAsync($"v1/applications/{appId}/events", Ct)).StatusCode);

        var one = (await project.Client.GetFromJsonAsync<JsonObject>($"v1/applications/{appId}/events/{eventId}", Ct))!;
        Assert.Equal(events[0].ToJsonString(), one.ToJsonString());
    }

    [Fact]
    public async Task Retry_OfDeliveredOrSkippedEvent_Answers409_AndChangesNothing()
    {
        var (project, appId, events) = await AppWithEventsAsync();
        foreach (var e in new[] { events[0], events[3] })
        {
            var response = await project.Client.PostAsync($"v1/applications/{appId}/events/{e["id"].Str()}/retry", null, Ct);
            var problem = await response.AssertProblemAsync(HttpStatusCode.Conflict, "conflict", Ct);
            Assert.Contains(e["state"].Str(), problem["detail"].Str(), StringComparison.Ordinal);
        }

        Assert.Equal(events.Select(e => e.ToJsonString()), (await project.Client.EventsAsync(appId, Ct)).Select(e => e.ToJsonString()));
    }

    [Fact]
    public async Task OpenApi_DocumentsTheEventsRoutes()
    {
        using var client = gateway.Client();
        var document = (await client.GetFromJsonAsync<JsonObject>("openapi/v1.json", Ct))!;
        var paths = document["paths"]!.AsObject();
        var list = paths["/v1/applications/{appId}/events"]!["get"]!;
        Assert.False(string.IsNullOrEmpty(list["summary"]?.GetValue<string>()));
        Assert.NotNull(list["responses"]!["200"]);
        Assert.NotNull(list["responses"]!["400"]);
        var retry = paths["/v1/applications/{appId}/events/{eventId}/retry"]!["post"]!;
        Assert.NotNull(retry["responses"]!["202"]);
        Assert.NotNull(retry["responses"]!["409"]);
    }
}
