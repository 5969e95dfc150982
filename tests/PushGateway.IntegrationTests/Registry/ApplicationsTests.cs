using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Registry;

public sealed class ApplicationsTests(TestGateway gateway) : IClassFixture<TestGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CreateApnsTokenApp_ShowsPublicFieldsOnly_AndEncryptsAtRest()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var p8 = TestCredentials.NewP8();
        var response = await project.Client.PostAsJsonAsync("v1/applications", new
        {
            name = "ios",
            platform = "apns",
            environment = "sandbox",
            credentials = TestCredentials.ApnsToken(p8),
        }, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = JsonNode.Parse(text)!.AsObject();
        Assert.Equal("sandbox", body["environment"].Str());
        Assert.Equal("token", body["credentials"]!["type"].Str());
        Assert.Equal("TEAM123456", body["credentials"]!["teamId"].Str());
        Assert.Equal("KEY1234567", body["credentials"]!["keyId"].Str());
        Assert.Equal("com.example.app", body["credentials"]!["bundleId"].Str());
        Assert.True(body["enabled"]!.GetValue<bool>());
        Assert.DoesNotContain("PRIVATE KEY", text, StringComparison.Ordinal);
        Assert.Null(body["credentials"]!["privateKey"]);

        var keyBody = p8.Split('\n')[1];
        var ciphertext = await gateway.ScalarAsync<string>("SELECT encode(credentials_ciphertext, 'escape') FROM applications WHERE id = @id", Ct, ("id", body.Id()));
        Assert.NotNull(ciphertext);
        Assert.DoesNotContain(keyBody, ciphertext, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE", ciphertext, StringComparison.Ordinal);
        var info = await gateway.ScalarAsync<string>("SELECT credentials_info::text FROM applications WHERE id = @id", Ct, ("id", body.Id()));
        Assert.DoesNotContain("PRIVATE", info!, StringComparison.Ordinal);

        var read = await project.Client.GetStringAsync($"v1/applications/{body.Id()}", Ct);
        Assert.DoesNotContain("PRIVATE KEY", read, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateApnsCertificateApp_RecordsSubjectAndNotAfter_NeverReturnsPassword()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var (p12, password, notAfter) = TestCredentials.NewPkcs12("com.example.cert");
        var response = await project.Client.PostAsJsonAsync("v1/applications", new
        {
            name = "ios-cert",
            platform = "apns",
            environment = "production",
            credentials = new { type = "certificate", certificate = p12, password },
        }, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var credentials = JsonNode.Parse(text)!["credentials"]!;
        Assert.Equal("certificate", credentials["type"].Str());
        Assert.Equal("com.example.cert", credentials["bundleId"].Str());
        Assert.Contains("com.example.cert", credentials["subject"].Str(), StringComparison.Ordinal);
        var recorded = DateTimeOffset.Parse(credentials["notAfter"].Str(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Math.Abs((recorded - notAfter).TotalSeconds) < 2, $"{recorded} vs {notAfter}");
        Assert.DoesNotContain(password, text, StringComparison.Ordinal);
        Assert.DoesNotContain(p12[..40], text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateFcmApp_ShowsProjectAndClientEmail()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var json = TestCredentials.NewServiceAccountJson("my-firebase");
        var response = await project.Client.PostAsJsonAsync("v1/applications", new
        {
            name = "android",
            platform = "fcm",
            credentials = new { type = "serviceAccount", serviceAccountJson = json },
        }, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = JsonNode.Parse(text)!;
        Assert.Equal("my-firebase", body["credentials"]!["projectId"].Str());
        Assert.Equal("push@my-firebase.iam.gserviceaccount.com", body["credentials"]!["clientEmail"].Str());
        Assert.Null(body["environment"]);
        Assert.DoesNotContain("PRIVATE KEY", text, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BadCredentials => new()
    {
        { """{"name":"a","platform":"apns","environment":"production","credentials":{"type":"token","teamId":"TEAM123456","keyId":"KEY1234567","privateKey":"-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----","bundleId":"com.x"}}""", "credentials.privateKey" },
        { """{"name":"a","platform":"apns","environment":"production","credentials":{"type":"token","teamId":"short","keyId":"KEY1234567","privateKey":"x","bundleId":"com.x"}}""", "credentials.teamId" },
        { """{"name":"a","platform":"apns","environment":"production","credentials":{"type":"certificate","certificate":"bm90IGEgcDEy","password":"x","bundleId":"com.x"}}""", "credentials.certificate" },
        { """{"name":"a","platform":"apns","environment":"production","credentials":{"type":"certificate","certificate":"***","password":"x"}}""", "credentials.certificate" },
        { """{"name":"a","platform":"fcm","credentials":{"type":"serviceAccount","serviceAccountJson":"{\"project_id\":\"p\",\"client_email\":\"e@x\"}"}}""", "credentials.serviceAccountJson" },
        { """{"name":"a","platform":"fcm","credentials":{"type":"serviceAccount","serviceAccountJson":"not json"}}""", "credentials.serviceAccountJson" },
        { """{"name":"a","platform":"fcm","credentials":{"type":"token","teamId":"TEAM123456"}}""", "credentials.type" },
        { """{"name":"a","platform":"apns","credentials":{"type":"token"}}""", "environment" },
        { """{"name":"a","platform":"apns","environment":"staging","credentials":{"type":"token"}}""", "environment" },
        { """{"name":"a","platform":"wns","credentials":{"type":"token"}}""", "platform" },
        { """{"name":"a","platform":"fcm","environment":"production","credentials":{"type":"serviceAccount"}}""", "environment" },
    };

    [Theory]
    [MemberData(nameof(BadCredentials))]
    public async Task CreateApp_WithBadCredentials_Returns400NamingTheField(string json, string field)
    {
        var project = await gateway.NewProjectAsync(Ct);
        var before = await gateway.TableCountsAsync(Ct);
        var response = await project.Client.PostAsync("v1/applications", Json.Raw(json), Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
        Assert.True(problem["errors"]!.AsObject().ContainsKey(field), problem.ToJsonString());
        Assert.Equal(before, await gateway.TableCountsAsync(Ct));
    }

    [Fact]
    public async Task CreateCertificateApp_Expired_Returns400()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var (p12, password, _) = TestCredentials.NewPkcs12(lifetime: TimeSpan.FromSeconds(-3600));
        var response = await project.Client.PostAsJsonAsync("v1/applications", new
        {
            name = "old",
            platform = "apns",
            environment = "production",
            credentials = new { type = "certificate", certificate = p12, password },
        }, Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
        Assert.Contains("expired", problem["errors"]!["credentials.certificate"]![0].Str(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Patch_RotatesCredentials_ReEnablesApplication_AndRenames()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        await gateway.ScalarAsync<int>("UPDATE applications SET enabled = false, disabled_reason = 'apns:403:InvalidProviderToken', disabled_at = now() WHERE id = @id", Ct, ("id", appId));
        var disabled = await project.Client.GetFromJsonAsync<JsonObject>($"v1/applications/{appId}", Ct);
        Assert.False(disabled!["enabled"]!.GetValue<bool>());
        Assert.Equal("apns:403:InvalidProviderToken", disabled["disabledReason"].Str());
        var versionBefore = await gateway.ScalarAsync<int>("SELECT credentials_version FROM applications WHERE id = @id", Ct, ("id", appId));

        var patched = await project.Client.PatchAsJsonAsync($"v1/applications/{appId}", new
        {
            name = "renamed",
            credentials = TestCredentials.ApnsToken(),
        }, Ct);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var body = await patched.ReadObjectAsync(Ct);
        Assert.Equal("renamed", body["name"].Str());
        Assert.True(body["enabled"]!.GetValue<bool>());
        Assert.Null(body["disabledReason"]);
        Assert.Equal(versionBefore + 1, await gateway.ScalarAsync<int>("SELECT credentials_version FROM applications WHERE id = @id", Ct, ("id", appId)));
    }

    [Fact]
    public async Task Patch_Events_ValidatesAndNeverReturnsSecret()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var bad = await project.Client.PatchAsJsonAsync($"v1/applications/{appId}", new { events = new { url = "ftp://x", secret = "short", types = new[] { "nope" } } }, Ct);
        var problem = await bad.AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
        Assert.Equal(3, problem["errors"]!.AsObject().Count);

        const string secret = "0123456789abcdef-secret";
        var ok = await project.Client.PatchAsJsonAsync($"v1/applications/{appId}", new { events = new { url = "https://hooks.example.com/push", secret, types = new[] { "endpointUpdated", "deliveryFailure" } } }, Ct);
        var text = await ok.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        var events = JsonNode.Parse(text)!["events"]!;
        Assert.Equal("https://hooks.example.com/push", events["url"].Str());
        Assert.Equal(2, events["types"]!.AsArray().Count);

        var removed = await project.Client.PatchAsync($"v1/applications/{appId}", Json.Raw("""{"events":null}"""), Ct);
        Assert.Null((await removed.ReadObjectAsync(Ct))["events"]);
    }

    [Fact]
    public async Task Patch_CannotChangePlatformOrRemoveCredentials()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateFcmAppAsync(Ct);
        await (await project.Client.PatchAsync($"v1/applications/{appId}", Json.Raw("""{"platform":"apns"}"""), Ct))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
        await (await project.Client.PatchAsync($"v1/applications/{appId}", Json.Raw("""{"credentials":null}"""), Ct))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
        await (await project.Client.PatchAsJsonAsync($"v1/applications/{appId}", new { credentials = TestCredentials.ApnsToken() }, Ct))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
    }

    [Fact]
    public async Task Delete_RemovesApplicationAndItsEndpoints()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var endpoint = await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct);

        Assert.Equal(HttpStatusCode.NoContent, (await project.Client.DeleteAsync($"v1/applications/{appId}", Ct)).StatusCode);
        await (await project.Client.GetAsync($"v1/applications/{appId}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await project.Client.GetAsync($"v1/endpoints/{endpoint.Id()}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        Assert.Equal(0, await gateway.ScalarAsync<long>("SELECT count(*) FROM endpoints WHERE application_id = @id", Ct, ("id", appId)));
        await (await project.Client.DeleteAsync($"v1/applications/{appId}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
    }

    [Fact]
    public async Task List_ShowsOnlyOwnProjectsApplications()
    {
        var a = await gateway.NewProjectAsync(Ct);
        var b = await gateway.NewProjectAsync(Ct);
        var appA = await a.Client.CreateApnsAppAsync(Ct);
        var appB = await b.Client.CreateFcmAppAsync(Ct);

        var listA = (await a.Client.GetFromJsonAsync<JsonObject>("v1/applications", Ct))!["items"]!.AsArray();
        Assert.Single(listA);
        Assert.Equal(appA, listA[0]!["id"]!.GetValue<Guid>());
        await (await a.Client.GetAsync($"v1/applications/{appB}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await a.Client.PatchAsJsonAsync($"v1/applications/{appB}", new { name = "x" }, Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        await (await a.Client.DeleteAsync($"v1/applications/{appB}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        Assert.Equal(HttpStatusCode.OK, (await b.Client.GetAsync($"v1/applications/{appB}", Ct)).StatusCode);
    }
}
