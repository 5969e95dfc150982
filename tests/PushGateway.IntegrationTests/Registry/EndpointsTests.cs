using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Registry;

public sealed class EndpointsTests(TestGateway gateway) : IClassFixture<TestGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Create_NewToken_Returns201_WithAllFields_AndRecordsEvent()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var token = TestCredentials.ApnsTokenHex().ToUpperInvariant();
        var response = await project.Client.PostAsJsonAsync($"v1/applications/{appId}/endpoints", new { token, customUserData = "alice's phone", userId = "alice" }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.ReadObjectAsync(Ct);
        Assert.Equal(token.ToLowerInvariant(), body["token"].Str());
        Assert.Equal(appId, body.Id("applicationId"));
        Assert.True(body["enabled"]!.GetValue<bool>());
        Assert.Equal("alice", body["userId"].Str());
        Assert.Equal("alice's phone", body["customUserData"].Str());
        foreach (var field in new[] { "createdAt", "updatedAt", "tokenUpdatedAt" })
        {
            Assert.NotNull(body[field]);
        }

        Assert.True(body.ContainsKey("disabledAt") && body["disabledAt"] is null);
        Assert.True(body.ContainsKey("disabledReason") && body["disabledReason"] is null);
        Assert.Equal(1, await gateway.ScalarAsync<long>("SELECT count(*) FROM events WHERE endpoint_id = @id AND type = 'endpointCreated'", Ct, ("id", body.Id())));
        var payload = await gateway.ScalarAsync<string>("SELECT payload::text FROM events WHERE endpoint_id = @id", Ct, ("id", body.Id()));
        var evt = JsonNode.Parse(payload!)!;
        Assert.Equal("endpointCreated", evt["type"].Str());
        Assert.Equal(body.Id().ToString(), evt["endpoint"]!["id"].Str());
        Assert.Equal(project.ProjectId.ToString(), evt["projectId"].Str());
    }

    [Fact]
    public async Task Create_SameTokenSameAttributes_Returns200WithExisting_NothingChanges()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var token = TestCredentials.ApnsTokenHex();
        var first = await project.Client.PostAsJsonAsync($"v1/applications/{appId}/endpoints", new { token, customUserData = "x" }, Ct);
        var firstBody = await first.ReadObjectAsync(Ct);

        var again = await project.Client.PostAsJsonAsync($"v1/applications/{appId}/endpoints", new { token, customUserData = "x" }, Ct);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var againBody = await again.ReadObjectAsync(Ct);
        Assert.Equal(firstBody.ToJsonString(), againBody.ToJsonString());

        // No attributes supplied at all: same token → the existing endpoint.
        var bare = await project.Client.PostAsJsonAsync($"v1/applications/{appId}/endpoints", new { token }, Ct);
        Assert.Equal(HttpStatusCode.OK, bare.StatusCode);
        Assert.Equal(1, await gateway.ScalarAsync<long>("SELECT count(*) FROM events WHERE endpoint_id = @id", Ct, ("id", firstBody.Id())));
    }

    [Fact]
    public async Task Create_SameTokenOtherAttributes_Returns409EndpointExists()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var token = TestCredentials.ApnsTokenHex();
        var existing = await project.Client.CreateEndpointAsync(appId, token, Ct);

        var response = await project.Client.PostAsJsonAsync($"v1/applications/{appId}/endpoints", new { token, customUserData = "different" }, Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.Conflict, "endpoint-exists", Ct);
        Assert.Equal(existing.Id(), problem.Id("endpointId"));
        Assert.Equal($"Endpoint {existing.Id()} already exists with the same token, but different attributes.", problem["detail"].Str());

        var disabled = await project.Client.PostAsJsonAsync($"v1/applications/{appId}/endpoints", new { token, enabled = false }, Ct);
        await disabled.AssertProblemAsync(HttpStatusCode.Conflict, "endpoint-exists", Ct);
    }

    [Fact]
    public async Task Create_SameTokenInAnotherApplication_IsAnotherEndpoint()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var app1 = await project.Client.CreateApnsAppAsync(Ct);
        var app2 = await project.Client.CreateApnsAppAsync(Ct, "sandbox");
        var token = TestCredentials.ApnsTokenHex();
        var e1 = await project.Client.CreateEndpointAsync(app1, token, Ct);
        var e2 = await project.Client.CreateEndpointAsync(app2, token, Ct);
        Assert.NotEqual(e1.Id(), e2.Id());
    }

    [Fact]
    public async Task Create_TwentyConcurrent_SameNewToken_OneEndpointEveryoneGetsIt()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var token = TestCredentials.ApnsTokenHex();
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            project.Client.PostAsJsonAsync($"v1/applications/{appId}/endpoints", new { token }, Ct)));
        var statuses = responses.Select(r => r.StatusCode).ToList();
        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(19, statuses.Count(s => s == HttpStatusCode.OK));
        var ids = new HashSet<Guid>();
        foreach (var r in responses)
        {
            ids.Add((await r.ReadObjectAsync(Ct)).Id());
        }

        Assert.Single(ids);
        Assert.Equal(1, await gateway.ScalarAsync<long>("SELECT count(*) FROM endpoints WHERE application_id = @a", Ct, ("a", appId)));
        Assert.Equal(1, await gateway.ScalarAsync<long>("SELECT count(*) FROM events WHERE application_id = @a AND type = 'endpointCreated'", Ct, ("a", appId)));
    }

    public static TheoryData<string, string> BadTokens => new()
    {
        { "apns", "abc" },
        { "apns", new string('a', 63) },
        { "apns", new string('a', 202) },
        { "apns", new string('g', 64) },
        { "apns", "<" + new string('a', 64) + ">" },
        { "apns", "" },
        { "fcm", "has space" },
        { "fcm", new string('x', 4097) },
        { "fcm", "tab\there" },
        { "fcm", "naïve" },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task Create_MalformedToken_Returns400(string platform, string token)
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = platform == "apns" ? await project.Client.CreateApnsAppAsync(Ct) : await project.Client.CreateFcmAppAsync(Ct);
        var response = await project.Client.PostAsJsonAsync($"v1/applications/{appId}/endpoints", new { token }, Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
        Assert.True(problem["errors"]!.AsObject().ContainsKey("token"));
        Assert.Equal(0, await gateway.ScalarAsync<long>("SELECT count(*) FROM endpoints WHERE application_id = @a", Ct, ("a", appId)));
    }

    [Fact]
    public async Task Create_LongApnsTokenAndFcmToken_Accepted()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var apns = await project.Client.CreateApnsAppAsync(Ct);
        var fcm = await project.Client.CreateFcmAppAsync(Ct);
        await project.Client.CreateEndpointAsync(apns, TestCredentials.ApnsTokenHex(100), Ct);
        var fcmToken = TestCredentials.FcmToken() + ":APA91b" + new string('Z', 100);
        var created = await project.Client.CreateEndpointAsync(fcm, fcmToken, Ct);
        Assert.Equal(fcmToken, created["token"].Str());
    }

    [Fact]
    public async Task GetPatchDelete_RoundTrip()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var endpoint = await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct);
        var id = endpoint.Id();

        var got = await project.Client.GetFromJsonAsync<JsonObject>($"v1/endpoints/{id}", Ct);
        Assert.Equal(endpoint.ToJsonString(), got!.ToJsonString());

        var newToken = TestCredentials.ApnsTokenHex();
        var patched = await project.Client.PatchAsJsonAsync($"v1/endpoints/{id}", new { token = newToken, enabled = false, customUserData = "c", userId = "bob" }, Ct);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var p = await patched.ReadObjectAsync(Ct);
        Assert.Equal(newToken, p["token"].Str());
        Assert.False(p["enabled"]!.GetValue<bool>());
        Assert.NotNull(p["disabledAt"]);
        Assert.Equal("c", p["customUserData"].Str());
        Assert.Equal("bob", p["userId"].Str());
        Assert.True(DateTimeOffset.Parse(p["tokenUpdatedAt"].Str(), System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.Parse(endpoint["tokenUpdatedAt"].Str(), System.Globalization.CultureInfo.InvariantCulture));

        // userId null unbinds; absent fields stay.
        var unbound = await (await project.Client.PatchAsync($"v1/endpoints/{id}", Json.Raw("""{"userId":null,"enabled":true}"""), Ct)).ReadObjectAsync(Ct);
        Assert.Null(unbound["userId"]);
        Assert.True(unbound["enabled"]!.GetValue<bool>());
        Assert.Null(unbound["disabledAt"]);
        Assert.Equal("c", unbound["customUserData"].Str());

        Assert.Equal(3, await gateway.ScalarAsync<long>("SELECT count(*) FROM events WHERE endpoint_id = @id", Ct, ("id", id)));

        Assert.Equal(HttpStatusCode.NoContent, (await project.Client.DeleteAsync($"v1/endpoints/{id}", Ct)).StatusCode);
        await (await project.Client.DeleteAsync($"v1/endpoints/{id}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await project.Client.GetAsync($"v1/endpoints/{id}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        Assert.Equal(1, await gateway.ScalarAsync<long>("SELECT count(*) FROM events WHERE endpoint_id = @id AND type = 'endpointDeleted'", Ct, ("id", id)));
    }

    [Fact]
    public async Task Patch_TokenHeldByAnotherEndpoint_Returns409_NothingChanges()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var a = await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct);
        var b = await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct);
        var response = await project.Client.PatchAsJsonAsync($"v1/endpoints/{a.Id()}", new { token = b["token"].Str() }, Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.Conflict, "endpoint-exists", Ct);
        Assert.Equal(b.Id(), problem.Id("endpointId"));
        Assert.Equal(a["token"].Str(), (await project.Client.GetFromJsonAsync<JsonObject>($"v1/endpoints/{a.Id()}", Ct))!["token"].Str());
    }

    [Fact]
    public async Task List_PaginatesWithKeyset_FiltersAndStaysStableUnderInserts()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateFcmAppAsync(Ct);
        var created = new List<Guid>();
        for (var i = 0; i < 7; i++)
        {
            created.Add((await project.Client.CreateEndpointAsync(appId, TestCredentials.FcmToken(), Ct, userId: i % 2 == 0 ? "even" : null)).Id());
        }

        await project.Client.PatchAsJsonAsync($"v1/endpoints/{created[3]}", new { enabled = false }, Ct);

        var seen = new List<Guid>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await project.Client.GetFromJsonAsync<JsonObject>($"v1/applications/{appId}/endpoints?limit=3{(cursor is null ? "" : "&cursor=" + cursor)}", Ct);
            seen.AddRange(page!["items"]!.AsArray().Select(i => i!["id"]!.GetValue<Guid>()));
            cursor = page["nextCursor"]?.GetValue<string>();
            if (pages++ == 0)
            {
                // Inserted while paging: appears at the end, never shifts or repeats the pages already read.
                created.Add((await project.Client.CreateEndpointAsync(appId, TestCredentials.FcmToken(), Ct)).Id());
            }
        }
        while (cursor is not null);

        Assert.Equal(created, seen);

        var even = await project.Client.GetFromJsonAsync<JsonObject>($"v1/applications/{appId}/endpoints?userId=even", Ct);
        Assert.Equal(4, even!["items"]!.AsArray().Count);
        var disabled = await project.Client.GetFromJsonAsync<JsonObject>($"v1/applications/{appId}/endpoints?enabled=false", Ct);
        Assert.Equal(created[3], Assert.Single(disabled!["items"]!.AsArray())!["id"]!.GetValue<Guid>());
        Assert.Null(disabled["nextCursor"]);
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=1001")]
    [InlineData("limit=abc")]
    [InlineData("cursor=not-a-cursor!!")]
    [InlineData("enabled=maybe")]
    public async Task List_BadQuery_Returns400(string query)
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateFcmAppAsync(Ct);
        await (await project.Client.GetAsync($"v1/applications/{appId}/endpoints?{query}", Ct)).AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
    }

    [Fact]
    public async Task OtherProjectsEndpoints_Answer404()
    {
        var a = await gateway.NewProjectAsync(Ct);
        var b = await gateway.NewProjectAsync(Ct);
        var appA = await a.Client.CreateApnsAppAsync(Ct);
        var endpoint = await a.Client.CreateEndpointAsync(appA, TestCredentials.ApnsTokenHex(), Ct);

        await (await b.Client.GetAsync($"v1/endpoints/{endpoint.Id()}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await b.Client.PatchAsJsonAsync($"v1/endpoints/{endpoint.Id()}", new { enabled = false }, Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await b.Client.DeleteAsync($"v1/endpoints/{endpoint.Id()}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await b.Client.PostAsJsonAsync($"v1/applications/{appA}/endpoints", new { token = TestCredentials.ApnsTokenHex() }, Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await b.Client.PostAsJsonAsync($"v1/applications/{appA}/registrations", new { token = TestCredentials.ApnsTokenHex() }, Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await b.Client.GetAsync($"v1/applications/{appA}/endpoints", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        Assert.True((await a.Client.GetFromJsonAsync<JsonObject>($"v1/endpoints/{endpoint.Id()}", Ct))!["enabled"]!.GetValue<bool>());
    }
}
