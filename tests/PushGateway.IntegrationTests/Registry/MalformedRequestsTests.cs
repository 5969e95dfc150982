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

    /// <summary>A valid service-account JSON (as text) with <paramref name="insert"/> placed right after its opening brace.</summary>
    private static string ServiceAccountWith(string insert) => "{" + insert + "," + TestCredentials.NewServiceAccountJson()[1..];

    private static string JsonString(string text) => JsonValue.Create(text)!.ToJsonString();

    /// <summary>
    /// Header-bound values, duplicate keys and deep nesting: each a 400 validation problem naming the field (never a
    /// 500, never a request built), and nothing written.
    /// </summary>
    public static TheoryData<string, string, string, string> ValidationCases()
    {
        const string apnsApp = "{apns}";
        const string message = """{"target":{"userId":"u1"}""";
        var deep = new string('[', 10_000) + new string(']', 10_000);
        var deepObjects = string.Concat(Enumerable.Repeat("""{"a":""", 10_000)) + "1" + new string('}', 10_000);
        var apnsCredentials = (string bundleId, string teamId) =>
            $$$"""{"type":"token","teamId":{{{JsonString(teamId)}}},"keyId":"KEY1234567","privateKey":{{{P8}}},"bundleId":{{{JsonString(bundleId)}}}}""";
        var apnsApplication = (string bundleId, string teamId) =>
            $$"""{"name":"a","platform":"apns","environment":"production","credentials":{{apnsCredentials(bundleId, teamId)}}}""";
        var certificate = TestCredentials.NewPkcs12(bundleId: "com.example app");
        return new TheoryData<string, string, string, string>
        {
            // method, path, body, the field the error must name (a prefix of the errors key)
            // Duplicate keys, at every level (our own fields compare case-insensitively, so these are duplicates too).
            { "POST", "v1/messages", message + ""","collapseKey":"a","collapseKey":"b"}""", "" },
            { "POST", "v1/messages", message + ""","collapseKey":"a","CollapseKey":"b"}""", "" },
            { "POST", "v1/messages", message + ""","apns":{"payload":{"a":1,"a":2}}}""", "apns.payload" },
            { "POST", "v1/messages", message + ""","apns":{"payload":{"aps":{"badge":1,"badge":2}}}}""", "apns.payload" },
            { "POST", "v1/messages", message + ""","apns":{"payload":{"x":[{"k":1,"k":1}]}}}""", "apns.payload" },
            { "POST", "v1/messages", message + ""","fcm":{"message":{"android":{"priority":"high","priority":"normal"}}}}""", "fcm.message" },
            { "POST", "v1/messages", message + ""","fcm":{"message":{"data":{"a":"1"},"data":{"b":"2"}}}}""", "fcm.message" },
            { "POST", "v1/messages", message + ""","data":{"a":"1","a":"2"}}""", "data" },
            { "POST", "v1/messages/batch", """{"messages":[{"target":{"userId":"u1"},"apns":{"payload":{"a":1,"a":2}}}]}""", "messages" },
            { "POST", "v1/applications", """{"name":"a","platform":"fcm","credentials":{"type":"serviceAccount","serviceAccountJson":""" + JsonString(ServiceAccountWith("\"project_id\":\"dup\"")) + "}}", "credentials.serviceAccountJson" },
            { "POST", "v1/applications", """{"name":"a","platform":"fcm","credentials":{"type":"serviceAccount","serviceAccountJson":""" + ServiceAccountWith("\"project_id\":\"dup\"") + "}}", "credentials.serviceAccountJson" },
            { "PATCH", $"v1/applications/{{fcm}}", """{"credentials":{"type":"serviceAccount","serviceAccountJson":""" + JsonString(ServiceAccountWith("\"client_email\":\"x@y\"")) + "}}", "credentials.serviceAccountJson" },
            // Deep nesting inside free-form objects.
            { "POST", "v1/messages", message + ",\"apns\":{\"payload\":{\"a\":" + deep + "}}}", "apns.payload" },
            { "POST", "v1/messages", message + ",\"apns\":{\"payload\":" + deepObjects + "}}", "apns.payload" },
            { "POST", "v1/messages", message + ",\"fcm\":{\"message\":{\"data\":" + deep + "}}}", "fcm.message" },
            { "POST", "v1/messages/batch", "{\"messages\":[" + message + ",\"apns\":{\"payload\":{\"a\":" + deep + "}}}]}", "messages" },
            // Header-bound values: collapseKey (apns-collapse-id) and apns.topic (apns-topic).
            { "POST", "v1/messages", message + ""","collapseKey":"a\r\nb"}""", "collapseKey" },
            { "POST", "v1/messages", message + ""","collapseKey":"a\nx-injected: 1"}""", "collapseKey" },
            { "POST", "v1/messages", message + ""","collapseKey":"tab\there"}""", "collapseKey" },
            { "POST", "v1/messages", message + ""","collapseKey":"del\u007f"}""", "collapseKey" },
            { "POST", "v1/messages", message + ""","collapseKey":"résumé"}""", "collapseKey" },
            { "POST", "v1/messages", message + ""","collapseKey":" padded "}""", "collapseKey" },
            { "POST", "v1/messages", message + ""","collapseKey":""}""", "collapseKey" },
            { "POST", "v1/messages", message + ",\"collapseKey\":\"" + new string('c', 65) + "\"}", "collapseKey" },
            { "POST", "v1/messages", message + ""","apns":{"topic":"com.example.app\r\n"}}""", "apns.topic" },
            { "POST", "v1/messages", message + ""","apns":{"topic":"com.exämple.app"}}""", "apns.topic" },
            { "POST", "v1/messages", message + ""","apns":{"topic":"com.example.app\u0085"}}""", "apns.topic" },
            { "POST", "v1/messages", message + ""","apns":{"topic":"com.example.app.voip "}}""", "apns.topic" },
            { "POST", "v1/messages", message + ""","apns":{"topic":""}}""", "apns.topic" },
            { "POST", "v1/messages", message + ",\"apns\":{\"topic\":\"" + new string('t', 256) + "\"}}", "apns.topic" },
            // Application credentials that end up in apns-topic or the provider token.
            { "POST", "v1/applications", apnsApplication("com.example.app\n", "TEAM123456"), "credentials.bundleId" },
            { "POST", "v1/applications", apnsApplication("com.example.app\r\n", "TEAM123456"), "credentials.bundleId" },
            { "POST", "v1/applications", apnsApplication("com.exämple.app", "TEAM123456"), "credentials.bundleId" },
            { "POST", "v1/applications", apnsApplication("com.example.app", "TEAM123456\n"), "credentials.teamId" },
            { "POST", "v1/applications", apnsApplication("com.example.app", "TEAM12345"), "credentials.teamId" },
            { "PATCH", $"v1/applications/{apnsApp}", $$"""{"credentials":{{apnsCredentials("com.example.app\n", "TEAM123456")}}}""", "credentials.bundleId" },
            { "POST", "v1/applications", $$$"""{"name":"a","platform":"apns","environment":"production","credentials":{"type":"certificate","certificate":"{{{certificate.Base64}}}","password":"{{{certificate.Password}}}"}}""", "credentials.bundleId" },
        };
    }

    [Theory]
    [MemberData(nameof(ValidationCases))]
    public async Task InvalidValue_Answers400Validation_NamingTheField_AndChangesNothing(string method, string path, string body, string field)
    {
        var problem = await SendAndAssertUnchangedAsync("project", method, path, body, 400);

        Assert.Equal("validation", problem["type"]!.GetValue<string>());
        var errors = problem["errors"]!.AsObject();
        Assert.NotEmpty(errors);
        Assert.True(errors.Any(e => e.Key.StartsWith(field, StringComparison.Ordinal)), $"no error for {field}: {problem.ToJsonString()}");
    }

    [Fact]
    public async Task Batch_HeaderBoundValues_AreThoseItemsValidationErrors()
    {
        using var client = fixture.Client(fixture.Project.Key);

        var response = await client.PostAsync("v1/messages/batch", Json.Raw("""
            {"messages":[
              {"target":{"userId":"nobody"},"collapseKey":"a\r\nb"},
              {"target":{"userId":"nobody"},"apns":{"topic":"com.ex\u00e4mple.app"}},
              {"target":{"userId":"nobody"},"collapseKey":"fine","apns":{"topic":"com.example.app"}}
            ]}
            """), Ct);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var items = (await response.ReadObjectAsync(Ct))["items"]!.AsArray();
        Assert.Equal(3, items.Count);
        Assert.Equal("validation", items[0]!["error"]!["type"].Str());
        Assert.NotNull(items[0]!["error"]!["errors"]!["collapseKey"]);
        Assert.Equal("validation", items[1]!["error"]!["type"].Str());
        Assert.NotNull(items[1]!["error"]!["errors"]!["apns.topic"]);
        Assert.Equal("accepted", items[2]!["status"].Str());
    }

    [Fact]
    public async Task KeysDifferingOnlyInCase_AreDifferentKeys_AndAccepted()
    {
        using var client = fixture.Client(fixture.Project.Key);

        var message = await client.PostAsync("v1/messages", Json.Raw("""
            {"target":{"userId":"nobody"},"data":{"k":"1","K":"2"},
             "apns":{"payload":{"a":1,"A":2,"aps":{"badge":1},"APS":{"x":{"y":1,"Y":2}}}},
             "fcm":{"message":{"data":{"x":"1","X":"2"}}}}
            """), Ct);
        var account = ServiceAccountWith("\"Project_id\":\"other\"");
        var application = await client.PostAsync("v1/applications", Json.Raw(
            """{"name":"case","platform":"fcm","credentials":{"type":"serviceAccount","serviceAccountJson":""" + JsonString(account) + "}}"), Ct);

        Assert.True(HttpStatusCode.Accepted == message.StatusCode, await message.Content.ReadAsStringAsync(Ct));
        Assert.True(HttpStatusCode.Created == application.StatusCode, await application.Content.ReadAsStringAsync(Ct));
        Assert.Equal("demo-project", (await application.ReadObjectAsync(Ct))["credentials"]!["projectId"].Str());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task MalformedRequest_Answers4xxProblem_AndChangesNothing(string key, string method, string path, string body, int expected)
    {
        await SendAndAssertUnchangedAsync(key, method, path, body, expected);
    }

    /// <summary>Sends the request; asserts a problem body with <paramref name="expected"/> and unchanged tables.</summary>
    private async Task<JsonNode> SendAndAssertUnchangedAsync(string key, string method, string path, string body, int expected)
    {
        path = path.Replace("{apns}", fixture.ApnsApp.ToString(), StringComparison.Ordinal)
            .Replace("{fcm}", fixture.FcmApp.ToString(), StringComparison.Ordinal)
            .Replace("{endpoint}", fixture.EndpointId.ToString(), StringComparison.Ordinal)
            .Replace("{project}", fixture.Project.ProjectId.ToString(), StringComparison.Ordinal);
        using var client = fixture.Client(key == "admin" ? TestGateway.AdminKey : fixture.Project.Key);
        var before = await fixture.TableCountsAsync(Ct);
        var snapshot = await fixture.ScalarAsync<string>("SELECT md5(string_agg(e::text, ',' ORDER BY id)) FROM endpoints e", Ct);
        var applications = await fixture.ScalarAsync<string>(ApplicationsDigest, Ct);

        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method != "GET")
        {
            request.Content = new StringContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            // The gateway answers an oversized body from its Content-Length without reading it and closes the
            // connection; a client still writing the body then gets a broken pipe instead of the answer. Waiting for
            // 100-continue (as curl does for large bodies) lets the client read the 413 first.
            request.Headers.ExpectContinue = body.Length > 64 * 1024;
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
        Assert.Equal(applications, await fixture.ScalarAsync<string>(ApplicationsDigest, Ct));
        return problem;
    }

    /// <summary>PATCHes must not change an application either (counts alone would not show it).</summary>
    private const string ApplicationsDigest = "SELECT md5(string_agg(a::text, ',' ORDER BY id)) FROM applications a";

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
