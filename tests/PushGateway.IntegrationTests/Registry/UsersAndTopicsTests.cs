using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Registry;

public sealed class UsersAndTopicsTests(TestGateway gateway) : IClassFixture<TestGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UserEndpoints_SpanApplications_UnbindOneThenAll()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var ios = await project.Client.CreateApnsAppAsync(Ct);
        var android = await project.Client.CreateFcmAppAsync(Ct);
        var phone = await project.Client.CreateEndpointAsync(ios, TestCredentials.ApnsTokenHex(), Ct, userId: "dave");
        var tablet = await project.Client.CreateEndpointAsync(android, TestCredentials.FcmToken(), Ct, userId: "dave");
        await project.Client.CreateEndpointAsync(android, TestCredentials.FcmToken(), Ct, userId: "erin");

        var items = (await project.Client.GetFromJsonAsync<JsonObject>("v1/users/dave/endpoints", Ct))!["items"]!.AsArray();
        Assert.Equal(new[] { phone.Id(), tablet.Id() }.Order(), items.Select(i => i!["id"]!.GetValue<Guid>()).Order());

        Assert.Equal(HttpStatusCode.NoContent, (await project.Client.DeleteAsync($"v1/users/dave/endpoints/{phone.Id()}", Ct)).StatusCode);
        Assert.Null((await project.Client.GetFromJsonAsync<JsonObject>($"v1/endpoints/{phone.Id()}", Ct))!["userId"]);
        await (await project.Client.DeleteAsync($"v1/users/dave/endpoints/{phone.Id()}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);

        Assert.Equal(HttpStatusCode.NoContent, (await project.Client.DeleteAsync("v1/users/dave/endpoints", Ct)).StatusCode);
        Assert.Empty((await project.Client.GetFromJsonAsync<JsonObject>("v1/users/dave/endpoints", Ct))!["items"]!.AsArray());
        // The endpoints themselves stay; erin is untouched.
        Assert.Equal(HttpStatusCode.OK, (await project.Client.GetAsync($"v1/endpoints/{tablet.Id()}", Ct)).StatusCode);
        Assert.Single((await project.Client.GetFromJsonAsync<JsonObject>("v1/users/erin/endpoints", Ct))!["items"]!.AsArray());
        Assert.Equal(2, await gateway.ScalarAsync<long>(
            "SELECT count(*) FROM events WHERE type = 'endpointUpdated' AND endpoint_id IN (@a, @b)", Ct, ("a", phone.Id()), ("b", tablet.Id())));
    }

    [Fact]
    public async Task UserEndpoints_AreProjectScoped()
    {
        var a = await gateway.NewProjectAsync(Ct);
        var b = await gateway.NewProjectAsync(Ct);
        var appA = await a.Client.CreateApnsAppAsync(Ct);
        var endpoint = await a.Client.CreateEndpointAsync(appA, TestCredentials.ApnsTokenHex(), Ct, userId: "frank");
        Assert.Empty((await b.Client.GetFromJsonAsync<JsonObject>("v1/users/frank/endpoints", Ct))!["items"]!.AsArray());
        await (await b.Client.DeleteAsync($"v1/users/frank/endpoints/{endpoint.Id()}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await b.Client.DeleteAsync("v1/users/frank/endpoints", Ct);
        Assert.Equal("frank", (await a.Client.GetFromJsonAsync<JsonObject>($"v1/endpoints/{endpoint.Id()}", Ct))!["userId"].Str());
    }

    [Fact]
    public async Task Topics_CreateIsIdempotent_SubscribeListUnsubscribeDelete()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateFcmAppAsync(Ct);
        var created = await project.Client.PutAsync("v1/topics/breaking-news_1", null, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("breaking-news_1", (await created.ReadObjectAsync(Ct))["name"].Str());
        Assert.Equal(HttpStatusCode.OK, (await project.Client.PutAsync("v1/topics/breaking-news_1", null, Ct)).StatusCode);

        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            var e = await project.Client.CreateEndpointAsync(appId, TestCredentials.FcmToken(), Ct);
            ids.Add(e.Id());
            Assert.Equal(HttpStatusCode.NoContent, (await project.Client.PutAsync($"v1/topics/breaking-news_1/subscriptions/{e.Id()}", null, Ct)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await project.Client.PutAsync($"v1/topics/breaking-news_1/subscriptions/{ids[0]}", null, Ct)).StatusCode);
        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await project.Client.GetFromJsonAsync<JsonObject>($"v1/topics/breaking-news_1/subscriptions?limit=2{(cursor is null ? "" : "&cursor=" + cursor)}", Ct);
            seen.AddRange(page!["items"]!.AsArray().Select(i => i!["endpointId"]!.GetValue<Guid>()));
            cursor = page["nextCursor"]?.GetValue<string>();
        }
        while (cursor is not null);

        Assert.Equal(ids, seen);
        Assert.Equal(5, (await project.Client.GetFromJsonAsync<JsonObject>("v1/topics/breaking-news_1", Ct))!["subscriptionCount"]!.GetValue<long>());

        Assert.Equal(HttpStatusCode.NoContent, (await project.Client.DeleteAsync($"v1/topics/breaking-news_1/subscriptions/{ids[1]}", Ct)).StatusCode);
        Assert.Equal(4, await gateway.ScalarAsync<long>(
            "SELECT count(*) FROM topic_subscriptions s JOIN topics t ON t.id = s.topic_id WHERE t.project_id = @p", Ct, ("p", project.ProjectId)));

        Assert.Equal(HttpStatusCode.NoContent, (await project.Client.DeleteAsync("v1/topics/breaking-news_1", Ct)).StatusCode);
        await (await project.Client.DeleteAsync("v1/topics/breaking-news_1", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await project.Client.GetAsync("v1/topics/breaking-news_1/subscriptions", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        Assert.Equal(0, await gateway.ScalarAsync<long>(
            "SELECT count(*) FROM topic_subscriptions s JOIN endpoints e ON e.id = s.endpoint_id WHERE e.project_id = @p", Ct, ("p", project.ProjectId)));
    }

    [Theory]
    [InlineData("has.dot")]
    [InlineData("has%20space")]
    [InlineData("ünï")]
    public async Task Topics_InvalidName_Returns400(string name)
    {
        var project = await gateway.NewProjectAsync(Ct);
        await (await project.Client.PutAsync($"v1/topics/{name}", null, Ct)).AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
    }

    [Fact]
    public async Task Topics_LongNameLimit()
    {
        var project = await gateway.NewProjectAsync(Ct);
        Assert.Equal(HttpStatusCode.Created, (await project.Client.PutAsync($"v1/topics/{new string('a', 256)}", null, Ct)).StatusCode);
        await (await project.Client.PutAsync($"v1/topics/{new string('a', 257)}", null, Ct)).AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
    }

    [Fact]
    public async Task Topics_SubscribeUnknownOrForeignEndpoint_Returns404()
    {
        var a = await gateway.NewProjectAsync(Ct);
        var b = await gateway.NewProjectAsync(Ct);
        var appB = await b.Client.CreateFcmAppAsync(Ct);
        var foreign = await b.Client.CreateEndpointAsync(appB, TestCredentials.FcmToken(), Ct);
        await a.Client.PutAsync("v1/topics/t", null, Ct);
        await (await a.Client.PutAsync($"v1/topics/t/subscriptions/{foreign.Id()}", null, Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await a.Client.PutAsync($"v1/topics/t/subscriptions/{Guid.NewGuid()}", null, Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await a.Client.PutAsync($"v1/topics/missing/subscriptions/{foreign.Id()}", null, Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        // Topics are per project: b's "t" is another topic.
        Assert.Equal(HttpStatusCode.Created, (await b.Client.PutAsync("v1/topics/t", null, Ct)).StatusCode);
    }

    [Fact]
    public async Task DeletingEndpoint_RemovesItsSubscriptions()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateFcmAppAsync(Ct);
        var e = await project.Client.CreateEndpointAsync(appId, TestCredentials.FcmToken(), Ct);
        await project.Client.PutAsync("v1/topics/x", null, Ct);
        await project.Client.PutAsync($"v1/topics/x/subscriptions/{e.Id()}", null, Ct);
        await project.Client.DeleteAsync($"v1/endpoints/{e.Id()}", Ct);
        Assert.Empty((await project.Client.GetFromJsonAsync<JsonObject>("v1/topics/x/subscriptions", Ct))!["items"]!.AsArray());
    }
}
