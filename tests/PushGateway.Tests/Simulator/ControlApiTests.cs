using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using PushGateway.Simulator;

namespace PushGateway.Tests.Simulator;

/// <summary>The control API over plain HTTP, as the gateway tests and compose users drive it.</summary>
public sealed class ControlApiTests
{
    [Fact]
    public async Task ApnsKeys_GeneratedKeyWorksUntilDeleted()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        using var control = new HttpClient { BaseAddress = t.Sim.ControlUrl };

        var created = await PostJsonAsync(control, "control/apns/keys", """{"teamId":"TEAMABCDEF"}""", ct);
        var keyId = created.GetProperty("keyId").GetString()!;
        var pem = created.GetProperty("privateKeyPem").GetString()!;
        var jwt = TestJwt.Es256(pem, keyId, "TEAMABCDEF", t.Time.GetUtcNow());
        using var client = t.NewClient();
        var before = await t.SendAsync(jwt: jwt, client: client, cancellationToken: ct);
        using var deleted = await control.DeleteAsync($"control/apns/keys/{keyId}", ct);
        var after = await t.SendAsync(jwt: jwt, client: client, cancellationToken: ct);

        Assert.Equal("TEAMABCDEF", created.GetProperty("teamId").GetString());
        Assert.Matches("^[A-Z0-9]{10}$", keyId);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", pem, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, before.Status);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal((HttpStatusCode.Forbidden, ApnsReasons.InvalidProviderToken), (after.Status, after.Reason));
    }

    [Fact]
    public async Task ApnsKeys_WithOwnPublicKeyTopicsAndEnvironment_AreHonoured()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        using var control = new HttpClient { BaseAddress = t.Sim.ControlUrl };
        using var own = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = JsonSerializer.Serialize(new
        {
            teamId = "TEAMOWNKEY",
            keyId = "OWNKEY0001",
            publicKeyPem = own.ExportSubjectPublicKeyInfoPem(),
            topics = new[] { "com.own.app" },
            environment = "sandbox",
        });

        var created = await PostJsonAsync(control, "control/apns/keys", request, ct);
        var jwt = TestJwt.Es256(own.ExportPkcs8PrivateKeyPem(), "OWNKEY0001", "TEAMOWNKEY", t.Time.GetUtcNow());
        var sandbox = await t.SendAsync(jwt: jwt, topic: "com.own.app", sandbox: true, client: t.NewClient(), cancellationToken: ct);
        var production = await t.SendAsync(jwt: jwt, topic: "com.own.app", client: t.NewClient(), cancellationToken: ct);
        var otherTopic = await t.SendAsync(jwt: jwt, topic: "com.other.app", sandbox: true, client: t.NewClient(), cancellationToken: ct);

        Assert.Equal("OWNKEY0001", created.GetProperty("keyId").GetString());
        Assert.False(created.TryGetProperty("privateKeyPem", out _));
        Assert.Equal(HttpStatusCode.OK, sandbox.Status);
        Assert.Equal(ApnsReasons.BadEnvironmentKeyInToken, production.Reason);
        Assert.Equal(ApnsReasons.TopicDisallowed, otherTopic.Reason);
    }

    [Fact]
    public async Task ApnsKeys_InvalidRequests_Answer400()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        using var control = new HttpClient { BaseAddress = t.Sim.ControlUrl };
        using var rsa = RSA.Create(2048);

        using var noTeam = await control.PostAsync("control/apns/keys", Json("""{"keyId":"X"}"""), ct);
        using var notPem = await control.PostAsync("control/apns/keys", Json("""{"teamId":"T","publicKeyPem":"nope"}"""), ct);
        using var rsaKey = await control.PostAsync("control/apns/keys", Json(JsonSerializer.Serialize(new { teamId = "T", publicKeyPem = rsa.ExportSubjectPublicKeyInfoPem() })), ct);

        Assert.Equal(HttpStatusCode.BadRequest, noTeam.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, notPem.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, rsaKey.StatusCode);
    }

    [Fact]
    public async Task ApnsCertificates_GeneratedCertificateIsUsableAsClientCertificate()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        using var control = new HttpClient { BaseAddress = t.Sim.ControlUrl };

        var created = await PostJsonAsync(control, "control/apns/certificates", """{"bundleId":"com.cert.app","environment":"sandbox"}""", ct);
        using var certificate = X509CertificateLoader.LoadPkcs12(
            Convert.FromBase64String(created.GetProperty("pkcs12Base64").GetString()!), created.GetProperty("password").GetString());
        using var client = t.NewClient(certificate);
        var sandbox = await t.SendAsync(noAuth: true, topic: null, sandbox: true, client: client, cancellationToken: ct);
        var production = await t.SendAsync(noAuth: true, topic: null, client: client, cancellationToken: ct);

        Assert.Equal(certificate.Thumbprint, created.GetProperty("thumbprint").GetString());
        Assert.True(certificate.HasPrivateKey);
        Assert.Equal(2048, certificate.GetRSAPublicKey()!.KeySize);
        var notAfter = created.GetProperty("notAfter").GetDateTimeOffset();
        Assert.InRange(notAfter, t.Time.GetUtcNow().AddDays(364), t.Time.GetUtcNow().AddDays(367));
        Assert.Equal(HttpStatusCode.OK, sandbox.Status);
        Assert.Equal(ApnsReasons.BadCertificateEnvironment, production.Reason);
    }

    [Fact]
    public async Task Settings_PartialUpdateKeepsOtherValuesIgnoresUnknownFieldsAndRejectsBadValues()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        using var control = new HttpClient { BaseAddress = t.Sim.ControlUrl };

        using var put = await control.PutAsync("control/settings", Json("""{"latencyMs":5,"goAwayEveryStreams":100,"somethingNew":true}"""), ct);
        var afterPut = JsonDocument.Parse(await put.Content.ReadAsStringAsync(ct)).RootElement;
        var read = JsonDocument.Parse(await control.GetStringAsync("control/settings", ct)).RootElement;
        using var bad = await control.PutAsync("control/settings", Json("""{"failureRate":2}"""), ct);
        using var badSpelling = await control.PutAsync("control/settings", Json("""{"badEnvironmentKeySpelling":"Nope"}"""), ct);

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(afterPut.GetRawText(), read.GetRawText());
        Assert.Equal(5, read.GetProperty("latencyMs").GetInt32());
        Assert.Equal(100, read.GetProperty("goAwayEveryStreams").GetInt32());
        Assert.Equal(0, read.GetProperty("latencyJitterMs").GetInt32());
        Assert.Equal(0.0, read.GetProperty("failureRate").GetDouble());
        Assert.Equal(1000, read.GetProperty("maxConcurrentStreams").GetInt32());
        Assert.True(read.GetProperty("recordRequests").GetBoolean());
        Assert.Equal(10000, read.GetProperty("receivedCapacity").GetInt32());
        Assert.Equal("BadEnvironmentKeyInToken", read.GetProperty("badEnvironmentKeySpelling").GetString());
        Assert.Equal(3599, read.GetProperty("fcmAccessTokenLifetimeSeconds").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badSpelling.StatusCode);
        Assert.Equal(5, t.State.Settings.LatencyMs);
    }

    [Fact]
    public async Task Tokens_PutDeleteAndUnknownPreset()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        using var control = new HttpClient { BaseAddress = t.Sim.ControlUrl };
        var token = ApnsTestContext.Token;

        using var put = await control.PutAsync($"control/tokens/{token}", Json("""{"preset":"unregistered","timestamp":1234,"retryAfter":null,"times":null,"unknown":1}"""), ct);
        var gone = await t.SendAsync(cancellationToken: ct);
        using var env = await control.PutAsync($"control/tokens/{token}", Json("""{"environment":"sandbox","topic":null}"""), ct);
        var wrongEnvironment = await t.SendAsync(cancellationToken: ct);
        using var deleted = await control.DeleteAsync($"control/tokens/{token}", ct);
        var normal = await t.SendAsync(cancellationToken: ct);
        using var unknown = await control.PutAsync($"control/tokens/{token}", Json("""{"preset":"explode"}"""), ct);

        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Equal((HttpStatusCode.Gone, (long?)1234), (gone.Status, gone.Timestamp));
        Assert.Equal(HttpStatusCode.NoContent, env.StatusCode);
        Assert.Equal(ApnsReasons.BadDeviceToken, wrongEnvironment.Reason);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.OK, normal.Status);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("explode", await unknown.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Received_JsonShapeFiltersAndClear()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        using var control = new HttpClient { BaseAddress = t.Sim.ControlUrl };
        await t.SendAsync(cancellationToken: ct);
        await t.SendAsync(token: "0a0b", configure: r => r.Headers.Add("apns-push-type", "alert"), cancellationToken: ct);

        var text = await control.GetStringAsync("control/received?platform=apns&token=0a0b&limit=10", ct);
        var page = JsonDocument.Parse(text).RootElement;
        using var cleared = await control.DeleteAsync("control/received", ct);
        var empty = JsonDocument.Parse(await control.GetStringAsync("control/received", ct)).RootElement;

        Assert.Equal(1, page.GetProperty("total").GetInt32());
        var item = page.GetProperty("items")[0];
        Assert.Equal("apns", item.GetProperty("platform").GetString());
        Assert.Equal("production", item.GetProperty("environment").GetString());
        Assert.Equal("0a0b", item.GetProperty("token").GetString());
        Assert.Equal(ApnsTestContext.Topic, item.GetProperty("topic").GetString());
        Assert.Equal("alert", item.GetProperty("headers").GetProperty("apns-push-type").GetString());
        Assert.Equal("hello", item.GetProperty("body").GetProperty("aps").GetProperty("alert").GetString());
        Assert.Equal(200, item.GetProperty("status").GetInt32());
        Assert.Equal(t.Time.GetUtcNow(), item.GetProperty("receivedAt").GetDateTimeOffset());
        Assert.DoesNotContain("authorization", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(t.Jwt(), text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, cleared.StatusCode);
        Assert.Equal(0, empty.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Counters_JsonShape()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        using var control = new HttpClient { BaseAddress = t.Sim.ControlUrl };
        t.State.SetTokenBehavior(ApnsTestContext.Token, new TokenBehavior { Preset = TokenPresets.Unregistered, Times = 1 });
        await t.SendAsync(cancellationToken: ct);
        await t.SendAsync(cancellationToken: ct);

        var counters = JsonDocument.Parse(await control.GetStringAsync("control/counters", ct)).RootElement;

        var apns = counters.GetProperty("apns");
        Assert.Equal(2, apns.GetProperty("requests").GetInt64());
        Assert.Equal(1, apns.GetProperty("accepted").GetInt64());
        Assert.Equal(1, apns.GetProperty("rejected").GetInt64());
        Assert.Equal(1, apns.GetProperty("byReason").GetProperty("Unregistered").GetInt64());
        Assert.Equal(1, apns.GetProperty("connectionsOpened").GetInt64());
        Assert.Equal(0, apns.GetProperty("goAwaysSent").GetInt64());
        Assert.Equal(1, apns.GetProperty("maxConcurrentStreamsObserved").GetInt64());
        var fcm = counters.GetProperty("fcm");
        foreach (var name in new[] { "requests", "accepted", "rejected", "tokenRequests", "tokensIssued" })
        {
            Assert.Equal(0, fcm.GetProperty(name).GetInt64());
        }

        Assert.Equal(JsonValueKind.Object, fcm.GetProperty("byErrorCode").ValueKind);
    }

    [Fact]
    public async Task Fcm_ServiceAccountAndRevokeThroughTheControlApi()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);
        using var control = new HttpClient { BaseAddress = t.Sim.ControlUrl };

        var created = await PostJsonAsync(control, "control/fcm/service-accounts", """{"projectId":"other-project","clientEmail":"sender@other-project.iam.gserviceaccount.com"}""", ct);
        var json = JsonDocument.Parse(created.GetProperty("serviceAccountJson").GetString()!).RootElement;
        var accessToken = await t.AccessTokenAsync(ct);
        using var revoked = await control.PostAsync("control/fcm/access-tokens/revoke", null, ct);
        var afterRevoke = await t.SendAsync(accessToken, FcmTestContext.Message(), cancellationToken: ct);

        Assert.Equal("other-project", created.GetProperty("projectId").GetString());
        Assert.Equal("sender@other-project.iam.gserviceaccount.com", created.GetProperty("clientEmail").GetString());
        Assert.Equal("sender@other-project.iam.gserviceaccount.com", json.GetProperty("client_email").GetString());
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, afterRevoke.Status);
    }

    [Fact]
    public async Task Reset_ForgetsEverythingAndRestoresSettings()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        using var control = new HttpClient { BaseAddress = t.Sim.ControlUrl };
        t.State.UpdateSettings(new SimulatorSettingsUpdate { LatencyMs = 1, RecordRequests = false });
        t.State.SetTokenBehavior("ab", new TokenBehavior { Preset = TokenPresets.Unregistered });
        await t.SendAsync(cancellationToken: ct);

        using var reset = await control.PostAsync("control/reset", null, ct);
        var afterReset = await t.SendAsync(client: t.NewClient(), cancellationToken: ct);

        Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        Assert.Equal(new SimulatorSettings(), t.State.Settings);
        Assert.Equal(ApnsReasons.InvalidProviderToken, afterReset.Reason); // the key is gone
        Assert.Null(t.State.FindBehaviorForTest("ab"));
        var counters = t.State.GetCounters().Apns;
        Assert.Equal((1L, 0L, 1L), (counters.Requests, counters.Accepted, counters.Rejected));
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> PostJsonAsync(HttpClient control, string path, string json, CancellationToken ct)
    {
        using var response = await control.PostAsync(path, Json(json), ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).Clone();
    }
}

internal static class SimulatorStateTestExtensions
{
    public static TokenBehavior? FindBehaviorForTest(this SimulatorState state, string token) => state.FindBehavior(token)?.Behavior;
}
