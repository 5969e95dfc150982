using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Registry;

/// <summary>
/// A battery of malformed requests: every one must answer 4xx application/problem+json and leave every table as it
/// was (no half-written change).
/// </summary>
public sealed class MalformedRequestsTests(MalformedRequestsTests.Fixture fixture) : IClassFixture<MalformedRequestsTests.Fixture>
{
    public sealed class Fixture : TestGateway
    {
        public ProjectContext Project { get; private set; } = null!;
        public Guid ApnsApp { get; private set; }
        public Guid FcmApp { get; private set; }
        public Guid EndpointId { get; private set; }

        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            Project = await NewProjectAsync(CancellationToken.None);
            ApnsApp = await Project.Client.CreateApnsAppAsync(CancellationToken.None);
            FcmApp = await Project.Client.CreateFcmAppAsync(CancellationToken.None);
            EndpointId = (await Project.Client.CreateEndpointAsync(FcmApp, TestCredentials.FcmToken(), CancellationToken.None)).Id();
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly string P8 = JsonValue.Create(TestCredentials.NewP8())!.ToJsonString();

    public static TheoryData<string, string, string, string, int> Cases()
    {
        const string apnsApp = "{apns}";
        const string fcmApp = "{fcm}";
        const string endpoint = "{endpoint}";
        var token = new string('a', 64);
        var data = new TheoryData<string, string, string, string, int>
        {
            // key kind, method, path, body, expected status
            { "admin", "POST", "v1/projects", "{", 400 },
            { "admin", "POST", "v1/projects", "not json", 400 },
            { "admin", "POST", "v1/projects", "[]", 400 },
            { "admin", "POST", "v1/projects", """{"name":123}""", 400 },
            { "admin", "POST", "v1/projects", """{"name":null}""", 400 },
            { "admin", "POST", "v1/projects", "{}", 400 },
            { "admin", "POST", "v1/projects", """{"name":""}""", 400 },
            { "admin", "POST", "v1/projects", """{"name":"x","extra":1}""", 400 },
            { "admin", "POST", "v1/projects", """{"name":"x","name":"y"}""", 400 },
            { "admin", "POST", "v1/projects", $$"""{"name":"{{new string('n', 201)}}"}""", 400 },
            { "admin", "POST", "v1/projects", """{"name":"nul\u0000byte"}""", 400 },
            { "admin", "POST", "v1/projects", """{"name":"lone \ud800 surrogate"}""", 400 },
            { "admin", "POST", "v1/projects", """{"name":"x"/*comment*/}""", 400 },
            { "admin", "POST", "v1/projects", """{"name":"x"} trailing""", 400 },
            { "admin", "POST", "v1/projects", "", 400 },
            { "admin", "POST", "v1/projects/{project}/api-keys", """{"name":["a"]}""", 400 },
            { "project", "POST", "v1/applications", """{"name":"a","platform":"APNS","environment":"production","credentials":{"type":"token"}}""", 400 },
            { "project", "POST", "v1/applications", """{"name":"a","platform":"apns","environment":"production"}""", 400 },
            { "project", "POST", "v1/applications", """{"name":"a","platform":"apns","environment":"production","credentials":"token"}""", 400 },
            { "project", "POST", "v1/applications", """{"name":"a","platform":"apns","environment":7,"credentials":{"type":"token"}}""", 400 },
            { "project", "POST", "v1/applications", $$$"""{"name":"a","platform":"apns","environment":"production","credentials":{"type":"token","teamId":"TEAM123456","keyId":"KEY1234567","privateKey":{{{P8}}},"bundleId":"com.x"},"events":{"url":"javascript:alert(1)","secret":"0123456789abcdef"}}""", 400 },
            { "project", "POST", "v1/applications", $$$"""{"name":"a","platform":"apns","environment":"production","credentials":{"type":"token","teamId":"TEAM123456","keyId":"KEY1234567","privateKey":{{{P8}}},"bundleId":"com.x"},"events":{"url":"https://x.example","secret":"0123456789abcdef","types":["everything"]}}""", 400 },
            { "project", "POST", "v1/applications", $$$"""{"name":"a","platform":"apns","environment":"production","credentials":{"type":"token","teamId":"TEAM123456","keyId":"KEY1234567","privateKey":{{{P8}}},"bundleId":"com x"}}""", 400 },
            { "project", "POST", "v1/applications", """{"name":"a","platform":"fcm","credentials":{"type":"serviceAccount","serviceAccountJson":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j":{"k":{"l":{"m":{"n":{"o":{"p":{"q":{"r":{"s":{"t":{"u":{"v":{"w":{"x":{"y":{"z":{"aa":{"bb":{"cc":{"dd":{"ee":{"ff":{"gg":1}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}""", 400 },
            { "project", "POST", $"v1/applications/{apnsApp}/endpoints", """{"token":12345}""", 400 },
            { "project", "POST", $"v1/applications/{apnsApp}/endpoints", $$"""{"token":"{{token}}","enabled":"yes"}""", 400 },
            { "project", "POST", $"v1/applications/{apnsApp}/endpoints", $$"""{"token":"{{token}}","enabled":"true"}""", 400 },
            { "project", "POST", $"v1/applications/{apnsApp}/endpoints", $$"""{"token":"{{token}}","customUserData":"{{new string('c', 2049)}}"}""", 400 },
            { "project", "POST", $"v1/applications/{apnsApp}/endpoints", $$$"""{"token":"{{{token}}}","customUserData":{"a":1}}""", 400 },
            { "project", "POST", $"v1/applications/{apnsApp}/endpoints", $$"""{"token":"{{token}}","userId":""}""", 400 },
            { "project", "POST", $"v1/applications/{apnsApp}/endpoints", $$"""{"token":"{{token}}","userId":"{{new string('u', 257)}}"}""", 400 },
            { "project", "POST", $"v1/applications/{fcmApp}/endpoints", """{"token":"white space"}""", 400 },
            { "project", "POST", $"v1/applications/{apnsApp}/registrations", $$"""{"token":"{{token}}","endpointId":"not-a-guid"}""", 400 },
            { "project", "POST", $"v1/applications/{apnsApp}/registrations", $$"""{"token":"{{token}}","endpointId":42}""", 400 },
            { "project", "POST", $"v1/applications/{apnsApp}/registrations", $$"""{"token":"{{token}}"} x""", 400 },
            { "project", "POST", $"v1/applications/{apnsApp}/registrations", """{"endpointId":null}""", 400 },
            { "project", "PATCH", $"v1/endpoints/{endpoint}", """{"enabled":null}""", 400 },
            { "project", "PATCH", $"v1/endpoints/{endpoint}", """{"colour":"red"}""", 400 },
            { "project", "PATCH", $"v1/endpoints/{endpoint}", """{"token":"has space"}""", 400 },
            { "project", "PATCH", $"v1/applications/{fcmApp}", """{"name":""}""", 400 },
            { "project", "PATCH", $"v1/applications/{fcmApp}", """{"enabled":"no"}""", 400 },
            { "project", "PUT", "v1/topics/" + new string('t', 257), "", 400 },
            { "project", "GET", $"v1/applications/{apnsApp}/endpoints?limit=-1", "", 400 },
            { "project", "POST", $"v1/applications/{apnsApp}/endpoints", "{\"token\":\"" + new string('a', 1_100_000) + "\"}", 413 },
            // JSON null inside collections gets past the deserializer's nullable checks.
            { "project", "POST", "v1/messages", """{"target":{"userId":"u1"},"data":{"a":null}}""", 400 },
            { "project", "POST", "v1/messages", """{"target":{"userIds":["u1",null]},"data":{"a":"b"}}""", 400 },
            { "project", "POST", "v1/messages", """{"target":{"endpointIds":[null]},"data":{"a":"b"}}""", 400 },
            { "project", "POST", "v1/applications", $$$"""{"name":"a","platform":"apns","environment":"production","credentials":{"type":"token","teamId":"TEAM123456","keyId":"KEY1234567","privateKey":{{{P8}}},"bundleId":"com.x"},"events":{"url":"https://x.example","secret":"0123456789abcdef","types":[null]}}""", 400 },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task MalformedRequest_Answers4xxProblem_AndChangesNothing(string key, string method, string path, string body, int expected)
    {
        path = path.Replace("{apns}", fixture.ApnsApp.ToString(), StringComparison.Ordinal)
            .Replace("{fcm}", fixture.FcmApp.ToString(), StringComparison.Ordinal)
            .Replace("{endpoint}", fixture.EndpointId.ToString(), StringComparison.Ordinal)
            .Replace("{project}", fixture.Project.ProjectId.ToString(), StringComparison.Ordinal);
        using var client = fixture.Client(key == "admin" ? TestGateway.AdminKey : fixture.Project.Key);
        var before = await fixture.TableCountsAsync(Ct);
        var snapshot = await fixture.ScalarAsync<string>("SELECT md5(string_agg(e::text, ',' ORDER BY id)) FROM endpoints e", Ct);

        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method != "GET")
        {
            request.Content = new StringContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        var response = await client.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(expected == (int)response.StatusCode, $"{method} {path} → {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text)!;
        Assert.False(string.IsNullOrEmpty(problem["type"]?.GetValue<string>()));
        Assert.Equal(expected, problem["status"]!.GetValue<int>());
        Assert.Equal(before, await fixture.TableCountsAsync(Ct));
        Assert.Equal(snapshot, await fixture.ScalarAsync<string>("SELECT md5(string_agg(e::text, ',' ORDER BY id)) FROM endpoints e", Ct));
    }

    [Fact]
    public async Task NonJsonContentType_Returns415()
    {
        using var admin = fixture.Admin();
        var response = await admin.PostAsync("v1/projects", Json.Raw("""{"name":"x"}""", "text/plain"), Ct);
        await response.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported-media-type", Ct);
    }

    [Fact]
    public async Task Batch_NullDataValueInOneItem_IsThatItemsValidationError_NotA500()
    {
        using var client = fixture.Client(fixture.Project.Key);
        var before = await fixture.TableCountsAsync(Ct);

        var response = await client.PostAsync("v1/messages/batch",
            Json.Raw("""{"messages":[{"target":{"userId":"nobody"},"data":{"a":"b"}},{"target":{"userId":"nobody"},"data":{"a":"","b":null}},null]}"""), Ct);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var items = (await response.ReadObjectAsync(Ct))["items"]!.AsArray();
        Assert.Equal(3, items.Count);
        Assert.Equal("accepted", items[0]!["status"].Str());
        Assert.Equal("validation", items[1]!["error"]!["type"].Str());
        Assert.NotNull(items[1]!["error"]!["errors"]!["data"]);
        Assert.Equal("validation", items[2]!["error"]!["type"].Str());
        // Only the valid message was stored.
        Assert.NotEqual(before, await fixture.TableCountsAsync(Ct));
        Assert.Equal(1, await fixture.ScalarAsync<long>("SELECT count(*) FROM messages WHERE id = @id", Ct, ("id", items[0]!.AsObject().Id())));
    }

    [Fact]
    public async Task UnknownRoute_And_WrongMethod_AreProblems()
    {
        using var client = fixture.Client(fixture.Project.Key);
        await (await client.GetAsync("v1/nothing-here", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await client.GetAsync("v1/endpoints/not-a-guid", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        var wrongMethod = await client.PutAsync("v1/applications", Json.Raw("{}"), Ct);
        await wrongMethod.AssertProblemAsync(HttpStatusCode.MethodNotAllowed, "method-not-allowed", Ct);
    }
}
