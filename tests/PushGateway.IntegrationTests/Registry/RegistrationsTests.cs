using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Registry;

public sealed class RegistrationsTests(TestGateway gateway) : IClassFixture<TestGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DateTimeOffset Time(JsonNode? node) => DateTimeOffset.Parse(node.Str(), System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task NewToken_Created201_ThenSameToken_Unchanged200_ConfirmsToken()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var token = TestCredentials.ApnsTokenHex();

        var (status, created) = await project.Client.RegisterAsync(appId, new { token }, Ct);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("created", created["outcome"].Str());
        var endpoint = created["endpoint"]!.AsObject();

        var (status2, again) = await project.Client.RegisterAsync(appId, new { token, endpointId = endpoint.Id() }, Ct);
        Assert.Equal(HttpStatusCode.OK, status2);
        Assert.Equal("unchanged", again["outcome"].Str());
        Assert.Equal(endpoint.Id(), again["endpoint"]!.AsObject().Id());
        Assert.Equal(endpoint["updatedAt"].Str(), again["endpoint"]!["updatedAt"].Str());
        Assert.True(Time(again["endpoint"]!["tokenUpdatedAt"]) > Time(endpoint["tokenUpdatedAt"]));

        var (_, byToken) = await project.Client.RegisterAsync(appId, new { token }, Ct);
        Assert.Equal("unchanged", byToken["outcome"].Str());
        Assert.Equal(1, await gateway.ScalarAsync<long>("SELECT count(*) FROM events WHERE endpoint_id = @id", Ct, ("id", endpoint.Id())));
    }

    [Fact]
    public async Task KnownEndpoint_NewToken_Updated_AndRecordsEvent()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var (_, created) = await project.Client.RegisterAsync(appId, new { token = TestCredentials.ApnsTokenHex() }, Ct);
        var id = created["endpoint"]!.AsObject().Id();
        var newToken = TestCredentials.ApnsTokenHex();

        var (status, updated) = await project.Client.RegisterAsync(appId, new { token = newToken, endpointId = id }, Ct);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("updated", updated["outcome"].Str());
        Assert.Equal(id, updated["endpoint"]!.AsObject().Id());
        Assert.Equal(newToken, updated["endpoint"]!["token"].Str());
        Assert.Equal(1, await gateway.ScalarAsync<long>("SELECT count(*) FROM events WHERE endpoint_id = @id AND type = 'endpointUpdated'", Ct, ("id", id)));
    }

    [Fact]
    public async Task DisabledEndpoint_IsReEnabled()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var token = TestCredentials.ApnsTokenHex();
        var (_, created) = await project.Client.RegisterAsync(appId, new { token }, Ct);
        var id = created["endpoint"]!.AsObject().Id();
        await gateway.ScalarAsync<int>("UPDATE endpoints SET enabled = false, disabled_at = now(), disabled_reason = 'apns:410:Unregistered' WHERE id = @id", Ct, ("id", id));

        var (status, body) = await project.Client.RegisterAsync(appId, new { token, endpointId = id }, Ct);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("updated", body["outcome"].Str());
        Assert.True(body["endpoint"]!["enabled"]!.GetValue<bool>());
        Assert.Null(body["endpoint"]!["disabledReason"]);
        Assert.Null(body["endpoint"]!["disabledAt"]);

        // Without endpointId too.
        await gateway.ScalarAsync<int>("UPDATE endpoints SET enabled = false, disabled_reason = 'x' WHERE id = @id", Ct, ("id", id));
        var (_, byToken) = await project.Client.RegisterAsync(appId, new { token }, Ct);
        Assert.Equal("updated", byToken["outcome"].Str());
        Assert.True(byToken["endpoint"]!["enabled"]!.GetValue<bool>());
    }

    [Fact]
    public async Task StaleEndpointId_TokenHeldByAnother_KeepsHolder_DeletesStale_MergesSubscriptionsAndUser()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var (_, staleBody) = await project.Client.RegisterAsync(appId, new { token = TestCredentials.ApnsTokenHex(), userId = "carol" }, Ct);
        var stale = staleBody["endpoint"]!.AsObject();
        var holderToken = TestCredentials.ApnsTokenHex();
        var (_, holderBody) = await project.Client.RegisterAsync(appId, new { token = holderToken }, Ct);
        var holder = holderBody["endpoint"]!.AsObject();
        await project.Client.PutAsync("v1/topics/news", null, Ct);
        Assert.Equal(HttpStatusCode.NoContent, (await project.Client.PutAsync($"v1/topics/news/subscriptions/{stale.Id()}", null, Ct)).StatusCode);

        var (status, merged) = await project.Client.RegisterAsync(appId, new { token = holderToken, endpointId = stale.Id() }, Ct);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("updated", merged["outcome"].Str());
        Assert.Equal(holder.Id(), merged["endpoint"]!.AsObject().Id());
        Assert.Equal("carol", merged["endpoint"]!["userId"].Str());
        await (await project.Client.GetAsync($"v1/endpoints/{stale.Id()}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        var subs = await project.Client.GetFromJsonAsync<JsonObject>("v1/topics/news/subscriptions", Ct);
        Assert.Equal(holder.Id(), Assert.Single(subs!["items"]!.AsArray())!["endpointId"]!.GetValue<Guid>());
        Assert.Equal(1, await gateway.ScalarAsync<long>("SELECT count(*) FROM events WHERE endpoint_id = @id AND type = 'endpointDeleted'", Ct, ("id", stale.Id())));
    }

    [Fact]
    public async Task UnknownEndpointId_Recreated()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var token = TestCredentials.ApnsTokenHex();
        var gone = Guid.NewGuid();

        var (status, body) = await project.Client.RegisterAsync(appId, new { token, endpointId = gone }, Ct);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("recreated", body["outcome"].Str());
        Assert.NotEqual(gone, body["endpoint"]!.AsObject().Id());

        // Deleted endpoint id again, but the token exists now: reuse the holder, still "recreated".
        var (status2, body2) = await project.Client.RegisterAsync(appId, new { token, endpointId = Guid.NewGuid() }, Ct);
        Assert.Equal(HttpStatusCode.OK, status2);
        Assert.Equal("recreated", body2["outcome"].Str());
        Assert.Equal(body["endpoint"]!.AsObject().Id(), body2["endpoint"]!.AsObject().Id());
    }

    [Fact]
    public async Task EndpointIdOfAnotherApplication_IsNotTouched_Recreated()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var app1 = await project.Client.CreateApnsAppAsync(Ct);
        var app2 = await project.Client.CreateApnsAppAsync(Ct);
        var other = await project.Client.CreateEndpointAsync(app2, TestCredentials.ApnsTokenHex(), Ct);
        var (status, body) = await project.Client.RegisterAsync(app1, new { token = TestCredentials.ApnsTokenHex(), endpointId = other.Id() }, Ct);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("recreated", body["outcome"].Str());
        Assert.Equal(other["token"].Str(), (await project.Client.GetFromJsonAsync<JsonObject>($"v1/endpoints/{other.Id()}", Ct))!["token"].Str());
    }

    [Fact]
    public async Task UserId_BindsTransfersAndNullUnbinds_AbsentLeavesAsIs()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var token = TestCredentials.ApnsTokenHex();
        var (_, first) = await project.Client.RegisterAsync(appId, new { token, userId = "alice" }, Ct);
        var id = first["endpoint"]!.AsObject().Id();
        Assert.Equal("alice", first["endpoint"]!["userId"].Str());

        // The device changes hands: bob logs in on it.
        var (_, transferred) = await project.Client.RegisterAsync(appId, new { token, endpointId = id, userId = "bob" }, Ct);
        Assert.Equal("updated", transferred["outcome"].Str());
        Assert.Equal("bob", transferred["endpoint"]!["userId"].Str());
        Assert.Empty((await project.Client.GetFromJsonAsync<JsonObject>("v1/users/alice/endpoints", Ct))!["items"]!.AsArray());
        Assert.Single((await project.Client.GetFromJsonAsync<JsonObject>("v1/users/bob/endpoints", Ct))!["items"]!.AsArray());

        var (_, absent) = await project.Client.RegisterAsync(appId, new { token, endpointId = id }, Ct);
        Assert.Equal("unchanged", absent["outcome"].Str());
        Assert.Equal("bob", absent["endpoint"]!["userId"].Str());

        var (_, unbound) = await project.Client.RegisterAsync(appId, JsonNode.Parse($$"""{"token":"{{token}}","endpointId":"{{id}}","userId":null}""")!, Ct);
        Assert.Equal("updated", unbound["outcome"].Str());
        Assert.Null(unbound["endpoint"]!["userId"]);
    }

    [Fact]
    public async Task Created_WritesItsEventWithTheEndpoint_InTheSameStatement()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var token = TestCredentials.ApnsTokenHex();
        var (_, created) = await project.Client.RegisterAsync(appId, new { token, userId = "carol", customUserData = "d1" }, Ct);
        var id = created["endpoint"]!.AsObject().Id();
        // Pending, or already skipped: the new event wakes the webhook dispatcher at once, and this application has no webhook.
        var payload = JsonNode.Parse((await gateway.ScalarAsync<string>(
            "SELECT payload::text FROM events WHERE endpoint_id = @id AND type = 'endpointCreated' AND project_id = @p AND application_id = @a",
            Ct, ("id", id), ("p", project.ProjectId), ("a", appId)))!)!;
        Assert.Equal("endpointCreated", payload["type"].Str());
        Assert.Equal(id, payload["endpointId"]!.GetValue<Guid>());
        Assert.Equal(token, payload["endpoint"]!["token"].Str());
        Assert.Equal("carol", payload["endpoint"]!["userId"].Str());
        Assert.Equal("d1", payload["endpoint"]!["customUserData"].Str());
        Assert.Equal(created["endpoint"]!["createdAt"].Str(), payload["endpoint"]!["createdAt"].Str());
    }

    [Fact]
    public async Task ApplicationOfAnotherProject_OrDeleted_404_NothingWritten()
    {
        var owner = await gateway.NewProjectAsync(Ct);
        var other = await gateway.NewProjectAsync(Ct);
        var appId = await owner.Client.CreateApnsAppAsync(Ct);
        var (status, _) = await owner.Client.RegisterAsync(appId, new { token = TestCredentials.ApnsTokenHex() }, Ct);
        Assert.Equal(HttpStatusCode.Created, status);

        var foreign = await other.Client.PostAsJsonAsync($"v1/applications/{appId}/registrations", new { token = TestCredentials.ApnsTokenHex() }, Ct);
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await owner.Client.DeleteAsync($"v1/applications/{appId}", Ct)).StatusCode);
        var gone = await owner.Client.PostAsJsonAsync($"v1/applications/{appId}/registrations", new { token = TestCredentials.ApnsTokenHex() }, Ct);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(0, await gateway.ScalarAsync<long>("SELECT count(*) FROM endpoints WHERE application_id = @a", Ct, ("a", appId)));
        Assert.Equal(0, await gateway.ScalarAsync<long>("SELECT count(*) FROM events WHERE application_id = @a AND type = 'endpointCreated'", Ct, ("a", appId)));
    }

    [Fact]
    public async Task CustomUserData_Updates()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateFcmAppAsync(Ct);
        var token = TestCredentials.FcmToken();
        await project.Client.RegisterAsync(appId, new { token, customUserData = "v1" }, Ct);
        var (_, body) = await project.Client.RegisterAsync(appId, new { token, customUserData = "v2" }, Ct);
        Assert.Equal("updated", body["outcome"].Str());
        Assert.Equal("v2", body["endpoint"]!["customUserData"].Str());
    }

    [Fact]
    public async Task TwentyConcurrentRegistrations_SameNewToken_OneEndpoint()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateFcmAppAsync(Ct);
        var token = TestCredentials.FcmToken();
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => project.Client.RegisterAsync(appId, new { token, userId = "u1" }, Ct)));
        Assert.Equal(1, results.Count(r => r.Status == HttpStatusCode.Created));
        Assert.All(results, r => Assert.True(r.Status is HttpStatusCode.Created or HttpStatusCode.OK));
        Assert.Single(results.Select(r => r.Body["endpoint"]!.AsObject().Id()).Distinct());
        Assert.Equal(1, await gateway.ScalarAsync<long>("SELECT count(*) FROM endpoints WHERE application_id = @a", Ct, ("a", appId)));
    }

    [Fact]
    public async Task ConcurrentTokenChanges_ToSameToken_Converge()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct)).Id());
        }

        var token = TestCredentials.ApnsTokenHex();
        var results = await Task.WhenAll(ids.Select(id => project.Client.RegisterAsync(appId, new { token, endpointId = id }, Ct)));
        Assert.All(results, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.Equal(1, await gateway.ScalarAsync<long>("SELECT count(*) FROM endpoints WHERE application_id = @a AND token = @t", Ct, ("a", appId), ("t", token)));
        Assert.Equal(1, await gateway.ScalarAsync<long>("SELECT count(*) FROM endpoints WHERE application_id = @a", Ct, ("a", appId)));
    }

    [Fact]
    public async Task BadToken_Returns400_NothingWritten()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var before = await gateway.TableCountsAsync(Ct);
        var response = await project.Client.PostAsJsonAsync($"v1/applications/{appId}/registrations", new { token = "xyz" }, Ct);
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
        Assert.Equal(before, await gateway.TableCountsAsync(Ct));
    }
}
