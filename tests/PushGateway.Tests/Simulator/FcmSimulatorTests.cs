using System.Net;
using System.Security.Cryptography;
using PushGateway.Simulator;

namespace PushGateway.Tests.Simulator;

/// <summary>The OAuth token endpoint and FCM HTTP v1 <c>messages:send</c>.</summary>
public sealed class FcmSimulatorTests
{
    private const string FcmErrorType = "type.googleapis.com/google.firebase.fcm.v1.FcmError";
    private const string BadRequestType = "type.googleapis.com/google.rpc.BadRequest";

    [Fact]
    public async Task ServiceAccountJson_IsCompleteAndPointsAtTheSimulator()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);
        var json = t.ServiceAccount;

        Assert.Equal("service_account", json.GetProperty("type").GetString());
        Assert.Equal(FcmTestContext.ProjectId, json.GetProperty("project_id").GetString());
        Assert.Equal(t.Account.ClientEmail, json.GetProperty("client_email").GetString());
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", json.GetProperty("private_key").GetString(), StringComparison.Ordinal);
        Assert.Equal(t.Sim.FcmTokenUrl.ToString(), json.GetProperty("token_uri").GetString());
        foreach (var field in new[] { "private_key_id", "client_id", "auth_uri", "auth_provider_x509_cert_url", "client_x509_cert_url" })
        {
            Assert.False(string.IsNullOrEmpty(json.GetProperty(field).GetString()), field);
        }
    }

    [Fact]
    public async Task Token_WithValidAssertion_IssuesABearerToken()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);

        var (status, body) = await t.RequestTokenAsync(t.Assertion(), cancellationToken: ct);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(string.IsNullOrEmpty(body.GetProperty("access_token").GetString()));
        Assert.Equal(3599, body.GetProperty("expires_in").GetInt32());
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
        Assert.Equal((1L, 1L), (t.State.GetCounters().Fcm.TokenRequests, t.State.GetCounters().Fcm.TokensIssued));
    }

    [Fact]
    public async Task Token_WithCloudPlatformScopeOverHttp11_IsAlsoAccepted()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);
        using var http11 = TestClients.Create(t.Sim.CertificatePath, version: HttpVersion.Version11);
        var claims = t.Claims();
        claims["scope"] = "openid https://www.googleapis.com/auth/cloud-platform";

        var (status, _) = await t.RequestTokenAsync(t.Assertion(claims), client: http11, cancellationToken: ct);

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Theory]
    [InlineData("wrong-key")]
    [InlineData("unknown-issuer")]
    [InlineData("wrong-audience")]
    [InlineData("no-messaging-scope")]
    [InlineData("lifetime-over-an-hour")]
    [InlineData("expired")]
    [InlineData("issued-in-the-future")]
    [InlineData("not-a-jwt")]
    [InlineData("wrong-grant-type")]
    public async Task Token_WithBadAssertion_Answers400InvalidGrant(string @case)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);
        var claims = t.Claims();
        string? otherKey = null;
        var grantType = "urn:ietf:params:oauth:grant-type:jwt-bearer";
        switch (@case)
        {
            case "wrong-key":
                using (var rsa = RSA.Create(2048))
                {
                    otherKey = rsa.ExportPkcs8PrivateKeyPem();
                }

                break;
            case "unknown-issuer": claims["iss"] = "nobody@demo-project.iam.gserviceaccount.com"; break;
            case "wrong-audience": claims["aud"] = "https://example.com/oauth2"; break;
            case "no-messaging-scope": claims["scope"] = "https://www.googleapis.com/auth/userinfo.email"; break;
            case "lifetime-over-an-hour": claims["exp"] = t.Time.GetUtcNow().AddMinutes(61).ToUnixTimeSeconds(); break;
            case "expired":
                claims["iat"] = t.Time.GetUtcNow().AddHours(-2).ToUnixTimeSeconds();
                claims["exp"] = t.Time.GetUtcNow().AddHours(-1).ToUnixTimeSeconds();
                break;
            case "issued-in-the-future":
                claims["iat"] = t.Time.GetUtcNow().AddMinutes(30).ToUnixTimeSeconds();
                claims["exp"] = t.Time.GetUtcNow().AddMinutes(60).ToUnixTimeSeconds();
                break;
            case "wrong-grant-type": grantType = "client_credentials"; break;
        }

        var assertion = @case == "not-a-jwt" ? "abc.def" : t.Assertion(claims, otherKey);
        var (status, body) = await t.RequestTokenAsync(assertion, grantType, cancellationToken: ct);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(@case == "wrong-grant-type" ? "unsupported_grant_type" : "invalid_grant", body.GetProperty("error").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("error_description").GetString()));
        Assert.Equal(0, t.State.GetCounters().Fcm.TokensIssued);
    }

    [Fact]
    public async Task Send_ValidMessage_Returns200WithMessageName()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);
        var accessToken = await t.AccessTokenAsync(ct);

        var reply = await t.SendAsync(accessToken, FcmTestContext.Message(extra: ""","data":{"k":"v"},"android":{"ttl":"3.5s","priority":"high"},"apns":{"headers":{"apns-priority":"5"}}"""), cancellationToken: ct);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Matches("^projects/demo-project/messages/.+$", reply.Body.GetProperty("name").GetString());
        var item = t.State.GetReceived("fcm").Items.Single();
        Assert.Equal(("fcm", (string?)null, FcmTestContext.Token, 200, (string?)null), (item.Platform, item.Environment, item.Token, item.Status, item.Reason));
        Assert.Equal("v", item.Body!.Value.GetProperty("message").GetProperty("data").GetProperty("k").GetString());
        Assert.Equal((1L, 1L, 0L), (t.State.GetCounters().Fcm.Requests, t.State.GetCounters().Fcm.Accepted, t.State.GetCounters().Fcm.Rejected));
    }

    [Fact]
    public async Task Send_OverHttp11_Works()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);
        using var http11 = TestClients.Create(t.Sim.CertificatePath, version: HttpVersion.Version11);
        var accessToken = await t.AccessTokenAsync(ct);

        var reply = await t.SendAsync(accessToken, FcmTestContext.Message(), version: HttpVersion.Version11, client: http11, cancellationToken: ct);

        Assert.Equal((HttpStatusCode.OK, HttpVersion.Version11), (reply.Status, reply.Version));
    }

    [Fact]
    public async Task Send_ValidateOnly_AnswersFakeMessageIdWithoutCountingADelivery()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);
        var accessToken = await t.AccessTokenAsync(ct);

        var reply = await t.SendAsync(accessToken, """{"validate_only":true,"message":{"topic":"news","data":{"a":"b"}}}""", cancellationToken: ct);

        Assert.Equal("projects/demo-project/messages/fake_message_id", reply.Body.GetProperty("name").GetString());
        Assert.Equal((1L, 0L), (t.State.GetCounters().Fcm.Requests, t.State.GetCounters().Fcm.Accepted));
        Assert.True(t.State.GetReceived("fcm").Items.Single().Body!.Value.GetProperty("validate_only").GetBoolean());
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("unknown")]
    [InlineData("expired")]
    [InlineData("revoked")]
    public async Task Send_WithoutAValidAccessToken_Answers401Unauthenticated(string @case)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);
        var accessToken = await t.AccessTokenAsync(ct);
        switch (@case)
        {
            case "missing": accessToken = null; break;
            case "unknown": accessToken = "ya29.not-issued-here"; break;
            case "expired": t.Time.Advance(TimeSpan.FromSeconds(3600)); break;
            case "revoked": t.State.RevokeFcmAccessTokens(); break;
        }

        var reply = await t.SendAsync(accessToken, FcmTestContext.Message(), cancellationToken: ct);

        Assert.Equal((HttpStatusCode.Unauthorized, "UNAUTHENTICATED", 401), (reply.Status, reply.GrpcStatus, reply.Error.GetProperty("code").GetInt32()));
        Assert.Null(reply.FcmErrorCode);
    }

    [Fact]
    public async Task Send_AfterRevoke_WorksAgainWithANewToken()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);
        await t.AccessTokenAsync(ct);
        t.State.RevokeFcmAccessTokens();

        var reply = await t.SendAsync(await t.AccessTokenAsync(ct), FcmTestContext.Message(), cancellationToken: ct);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
    }

    [Fact]
    public async Task Send_ToAnotherProject_Answers403PermissionDenied()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);

        var reply = await t.SendAsync(await t.AccessTokenAsync(ct), FcmTestContext.Message(), projectId: "someone-else", cancellationToken: ct);

        Assert.Equal((HttpStatusCode.Forbidden, "PERMISSION_DENIED"), (reply.Status, reply.GrpcStatus));
        Assert.Null(reply.FcmErrorCode);
    }

    [Fact]
    public async Task Send_DataValueNotAString_Answers400WithFieldViolationAndNoFcmError()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);

        var reply = await t.SendAsync(await t.AccessTokenAsync(ct), FcmTestContext.Message(extra: ""","data":{"count":12}"""), cancellationToken: ct);

        Assert.Equal((HttpStatusCode.BadRequest, "INVALID_ARGUMENT"), (reply.Status, reply.GrpcStatus));
        Assert.Equal([BadRequestType], reply.DetailTypes);
        var violation = reply.Detail(".BadRequest")!.Value.GetProperty("fieldViolations")[0];
        Assert.Equal("message.data[0].value", violation.GetProperty("field").GetString());
        Assert.Equal("Invalid value at 'message.data[0].value' (TYPE_STRING), 12", reply.ErrorMessage);
        Assert.Equal(("INVALID_ARGUMENT", 1L), (t.State.GetReceived("fcm").Items.Single().Reason, t.State.GetCounters().Fcm.Rejected));
    }

    [Theory]
    [InlineData("""{"message":{"notification":{"title":"x"}}}""", "message")]
    [InlineData("""{"message":{"token":"aaaaaaaaaa","topic":"news"}}""", "message")]
    [InlineData("""{"message":{"topic":"news","data":{"from":"me"}}}""", "message.data[0].key")]
    [InlineData("""{"message":{"topic":"news","data":{"ok":"1","google.x":"y"}}}""", "message.data[1].key")]
    [InlineData("""{"message":{"topic":"news","data":{"gcm.notification.x":"y"}}}""", "message.data[0].key")]
    [InlineData("""{"message":{"topic":"news","android":{"ttl":"3600"}}}""", "message.android.ttl")]
    [InlineData("""{"message":{"topic":"news","android":{"ttl":"2419201s"}}}""", "message.android.ttl")]
    [InlineData("""{"message":{"topic":"news","android":{"priority":"urgent"}}}""", "message.android.priority")]
    [InlineData("""{"message":{"topic":"news","apns":{"headers":{"apns-priority":10}}}}""", "message.apns.headers[0].value")]
    [InlineData("""{"message":{"topic":"bad topic!"}}""", "message.topic")]
    [InlineData("""{"nomessage":true}""", "message")]
    [InlineData("""not json""", "")]
    public async Task Send_InvalidMessage_Answers400InvalidArgumentWithBadRequest(string body, string field)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);

        var reply = await t.SendAsync(await t.AccessTokenAsync(ct), body, cancellationToken: ct);

        Assert.Equal((HttpStatusCode.BadRequest, "INVALID_ARGUMENT"), (reply.Status, reply.GrpcStatus));
        Assert.Null(reply.FcmErrorCode);
        Assert.Equal(field, reply.Detail(".BadRequest")!.Value.GetProperty("fieldViolations")[0].GetProperty("field").GetString());
    }

    [Theory]
    [InlineData("""{"message":{"topic":"news","android":{"ttl":"2419200s","priority":"normal"}}}""")]
    [InlineData("""{"message":{"condition":"'a' in topics && 'b' in topics"}}""")]
    [InlineData("""{"message":{"topic":"/topics/news"}}""")]
    public async Task Send_EdgeValidMessages_AreAccepted(string body)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);

        var reply = await t.SendAsync(await t.AccessTokenAsync(ct), body, cancellationToken: ct);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
    }

    [Theory]
    [InlineData(false, 4096, HttpStatusCode.OK)]
    [InlineData(false, 4097, HttpStatusCode.BadRequest)]
    [InlineData(true, 2048, HttpStatusCode.OK)]
    [InlineData(true, 2049, HttpStatusCode.BadRequest)]
    public async Task Send_MessageOverTheSizeLimit_IsMessageTooBig(bool topic, int size, HttpStatusCode expected)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);

        // The size counts the message object without its target; pad a data value to hit it exactly.
        const string shell = """{"data":{"p":""}}""";
        var message = "{\"data\":{\"p\":\"" + new string('x', size - shell.Length) + "\"}}";
        var target = topic ? "\"topic\":\"news\"," : $"\"token\":\"{FcmTestContext.Token}\",";
        var body = "{\"message\":{" + target + message[1..] + "}";
        Assert.Equal(size, message.Length);

        var reply = await t.SendAsync(await t.AccessTokenAsync(ct), body, cancellationToken: ct);

        Assert.Equal(expected, reply.Status);
        if (expected == HttpStatusCode.BadRequest)
        {
            Assert.Equal(("INVALID_ARGUMENT", "Message too big"), (reply.GrpcStatus, reply.ErrorMessage));
        }
    }

    [Theory]
    [InlineData("short")]
    [InlineData("has spaces in it")]
    [InlineData("bad/slash/token")]
    public async Task Send_MalformedRegistrationToken_AnswersTheInvalidTokenShape(string token)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);

        var reply = await t.SendAsync(await t.AccessTokenAsync(ct), FcmTestContext.Message(token), cancellationToken: ct);

        Assert.Equal((HttpStatusCode.BadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT"), (reply.Status, reply.GrpcStatus, reply.FcmErrorCode));
        Assert.Equal("The registration token is not a valid FCM registration token", reply.ErrorMessage);
        Assert.Equal([FcmErrorType], reply.DetailTypes);
    }

    [Theory]
    [InlineData(TokenPresets.FcmUnregistered, 404, "NOT_FOUND", "UNREGISTERED", "")]
    [InlineData(TokenPresets.FcmInvalidToken, 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "")]
    [InlineData(TokenPresets.FcmInvalidPayload, 400, "INVALID_ARGUMENT", null, ".BadRequest")]
    [InlineData(TokenPresets.FcmSenderMismatch, 403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH", "")]
    [InlineData(TokenPresets.FcmQuotaExceeded, 429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", ".QuotaFailure")]
    [InlineData(TokenPresets.FcmProjectQuota, 429, "RESOURCE_EXHAUSTED", null, ".ErrorInfo")]
    [InlineData(TokenPresets.FcmUnavailable, 503, "UNAVAILABLE", "UNAVAILABLE", "")]
    [InlineData(TokenPresets.FcmInternal, 500, "INTERNAL", "INTERNAL", "")]
    [InlineData(TokenPresets.FcmThirdPartyAuth, 401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR", "")]
    [InlineData(TokenPresets.Unregistered, 404, "NOT_FOUND", "UNREGISTERED", "")]
    [InlineData(TokenPresets.ServiceUnavailable, 503, "UNAVAILABLE", "UNAVAILABLE", "")]
    public async Task Send_TokenWithPreset_AnswersItsErrorEnvelope(string preset, int status, string grpc, string? errorCode, string extraDetail)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);
        t.State.SetTokenBehavior(FcmTestContext.Token, new TokenBehavior { Preset = preset });

        var reply = await t.SendAsync(await t.AccessTokenAsync(ct), FcmTestContext.Message(), cancellationToken: ct);

        Assert.Equal((status, grpc, status), ((int)reply.Status, reply.GrpcStatus, reply.Error.GetProperty("code").GetInt32()));
        Assert.Equal(errorCode, reply.FcmErrorCode);
        Assert.False(string.IsNullOrEmpty(reply.ErrorMessage));
        var expectedTypes = new List<string>();
        if (errorCode is not null)
        {
            expectedTypes.Add(FcmErrorType);
        }

        if (extraDetail.Length > 0)
        {
            Assert.NotNull(reply.Detail(extraDetail));
            expectedTypes.Add(reply.Detail(extraDetail)!.Value.GetProperty("@type").GetString()!);
        }

        Assert.Equal(expectedTypes, reply.DetailTypes);
        Assert.Equal(errorCode ?? grpc, t.State.GetReceived("fcm").Items.Single().Reason);
        Assert.Equal(1, t.State.GetCounters().Fcm.ByErrorCode[errorCode ?? grpc]);
    }

    [Fact]
    public async Task Send_ProjectQuotaPreset_CarriesErrorInfoWithTheQuotaMetadata()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);
        t.State.SetTokenBehavior(FcmTestContext.Token, new TokenBehavior { Preset = TokenPresets.FcmProjectQuota, RetryAfter = 60 });

        var reply = await t.SendAsync(await t.AccessTokenAsync(ct), FcmTestContext.Message(), cancellationToken: ct);

        var info = reply.Detail(".ErrorInfo")!.Value;
        Assert.Equal("RATE_LIMIT_EXCEEDED", info.GetProperty("reason").GetString());
        Assert.Equal("SendsPerMinutePerProject", info.GetProperty("metadata").GetProperty("quota_limit").GetString());
        Assert.Equal(60, reply.RetryAfter);
    }

    [Fact]
    public async Task Send_ExplicitFcmAnswerWithTimes_IsReturnedThenNormal()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);
        var accessToken = await t.AccessTokenAsync(ct);
        t.State.SetTokenBehavior(FcmTestContext.Token, new TokenBehavior
        {
            Fcm = new FcmAnswer { Status = 503, GrpcStatus = "UNAVAILABLE", ErrorCode = null, Message = "try later" },
            RetryAfter = 3,
            Times = 1,
        });

        var first = await t.SendAsync(accessToken, FcmTestContext.Message(), cancellationToken: ct);
        var second = await t.SendAsync(accessToken, FcmTestContext.Message(), cancellationToken: ct);

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "UNAVAILABLE", "try later", 3), (first.Status, first.GrpcStatus, first.ErrorMessage, first.RetryAfter));
        Assert.Empty(first.DetailTypes);
        Assert.Equal(HttpStatusCode.OK, second.Status);
    }

    [Fact]
    public async Task Send_WithFailureRateOne_Answers503UnavailableWithRetryAfterOne()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);
        t.State.UpdateSettings(new SimulatorSettingsUpdate { FailureRate = 1 });

        var reply = await t.SendAsync(await t.AccessTokenAsync(ct), FcmTestContext.Message(), cancellationToken: ct);

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "UNAVAILABLE", "UNAVAILABLE", 1), (reply.Status, reply.GrpcStatus, reply.FcmErrorCode, reply.RetryAfter));
    }

    [Fact]
    public async Task Send_ResetPreset_FailsAtTransportLevelOnHttp2AndHttp11()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);
        var accessToken = await t.AccessTokenAsync(ct);
        using var http11 = TestClients.Create(t.Sim.CertificatePath, version: HttpVersion.Version11);
        t.State.SetTokenBehavior(FcmTestContext.Token, new TokenBehavior { Preset = TokenPresets.Reset, Times = 2 });

        var h2 = await Record.ExceptionAsync(() => t.SendAsync(accessToken, FcmTestContext.Message(), cancellationToken: ct));
        var h1 = await Record.ExceptionAsync(() => t.SendAsync(accessToken, FcmTestContext.Message(), version: HttpVersion.Version11, client: http11, cancellationToken: ct));
        var after = await t.SendAsync(accessToken, FcmTestContext.Message(), cancellationToken: ct);

        Assert.IsType<HttpRequestException>(h2);
        Assert.IsType<HttpRequestException>(h1);
        Assert.Equal(HttpStatusCode.OK, after.Status);
    }

    [Fact]
    public async Task UnknownPath_OnTheFcmListener_Answers404Envelope()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await FcmTestContext.StartAsync(ct);

        using var response = await t.Client.GetAsync(new Uri(t.Sim.FcmUrl, "v1/projects/demo-project/messages"), ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("\"NOT_FOUND\"", await response.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }
}
