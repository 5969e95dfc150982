using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using PushGateway.Fcm;

namespace PushGateway.Tests.Fcm;

/// <summary>The FCM client against the in-process simulator over real sockets (TLS, HTTP/2, OAuth token endpoint).</summary>
public sealed class FcmClientSimulatorTests(FcmSimulatorFixture fixture) : IClassFixture<FcmSimulatorFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(FcmClient Client, string ProjectId)> NewClientAsync(Action<FcmClientOptions>? configure = null)
    {
        var projectId = FcmSimulatorFixture.NewProject();
        var json = await fixture.CreateServiceAccountAsync(projectId, Ct);
        return (fixture.CreateClient(json, configure), projectId);
    }

    [Fact]
    public async Task SendAsync_HealthyToken_ReturnsMessageNameOverHttp2()
    {
        var (client, projectId) = await NewClientAsync();
        using var _ = client;
        var token = FcmSimulatorFixture.NewToken();

        var response = await client.SendAsync(new FcmMessage
        {
            Token = token,
            Notification = new FcmNotification { Title = "Hi", Body = "Grüße 🎉" },
            Data = new Dictionary<string, string> { ["orderId"] = "42" },
            Android = new FcmAndroidConfig { Priority = FcmAndroidPriority.High, Ttl = TimeSpan.FromSeconds(3.5) },
        }, cancellationToken: Ct);

        Assert.Equal(FcmResponseClass.Delivered, response.Class);
        Assert.Equal(200, response.StatusCode);
        Assert.StartsWith($"projects/{projectId}/messages/", response.MessageName);
        Assert.NotEqual($"projects/{projectId}/messages/fake_message_id", response.MessageName);
        Assert.Equal(HttpVersion.Version20, response.ProtocolVersion);

        var received = Assert.Single(await fixture.ReceivedAsync(token, Ct));
        var message = received!["body"]!["message"]!;
        Assert.Equal(token, (string?)message["token"]);
        Assert.Equal("42", (string?)message["data"]!["orderId"]);
        Assert.Equal("Grüße 🎉", (string?)message["notification"]!["body"]);
        Assert.Equal("3.5s", (string?)message["android"]!["ttl"]);
        Assert.Equal("high", (string?)message["android"]!["priority"]);
        Assert.Equal(200, (int)received["status"]!);
    }

    [Theory]
    [InlineData("fcmUnregistered", 404, FcmResponseClass.TokenInvalid, FcmErrorCode.Unregistered, "NOT_FOUND")]
    [InlineData("fcmInvalidToken", 400, FcmResponseClass.TokenInvalid, FcmErrorCode.InvalidArgument, "INVALID_ARGUMENT")]
    [InlineData("fcmInvalidPayload", 400, FcmResponseClass.RequestRejected, FcmErrorCode.None, "INVALID_ARGUMENT")]
    [InlineData("fcmSenderMismatch", 403, FcmResponseClass.TokenInvalid, FcmErrorCode.SenderIdMismatch, "PERMISSION_DENIED")]
    [InlineData("fcmQuotaExceeded", 429, FcmResponseClass.Retryable, FcmErrorCode.QuotaExceeded, "RESOURCE_EXHAUSTED")]
    [InlineData("fcmProjectQuota", 429, FcmResponseClass.Retryable, FcmErrorCode.None, "RESOURCE_EXHAUSTED")]
    [InlineData("fcmUnavailable", 503, FcmResponseClass.Retryable, FcmErrorCode.Unavailable, "UNAVAILABLE")]
    [InlineData("fcmInternal", 500, FcmResponseClass.Retryable, FcmErrorCode.Internal, "INTERNAL")]
    [InlineData("fcmThirdPartyAuth", 401, FcmResponseClass.CredentialsRejected, FcmErrorCode.ThirdPartyAuthError, "UNAUTHENTICATED")]
    public async Task SendAsync_FcmPreset_EndsInTheContractClass(string preset, int status, FcmResponseClass expectedClass, FcmErrorCode expectedCode, string grpcStatus)
    {
        var (client, _) = await NewClientAsync();
        using var _ = client;
        var token = FcmSimulatorFixture.NewToken();
        await fixture.SetTokenBehaviorAsync(token, new { preset }, Ct);
        await client.SendAsync(new FcmMessage { Token = FcmSimulatorFixture.NewToken() }, cancellationToken: Ct); // warm the access token
        var before = await fixture.FcmCountersAsync(Ct);

        var response = await client.SendAsync(new FcmMessage { Token = token, Data = new Dictionary<string, string> { ["k"] = "v" } }, cancellationToken: Ct);

        Assert.Equal(expectedClass, response.Class);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(expectedCode, response.ErrorCode);
        Assert.Equal(grpcStatus, response.ErrorStatus);
        Assert.False(response.IsTransportFailure);
        Assert.Null(response.MessageName);
        Assert.False(string.IsNullOrEmpty(response.ErrorMessage));

        // No hidden retry: one request reached the simulator, and no new access token was asked for
        // (a 401/403 *with* an FcmError detail is not about our OAuth token).
        Assert.Single(await fixture.ReceivedAsync(token, Ct));
        var after = await fixture.FcmCountersAsync(Ct);
        Assert.Equal(before.TokenRequests, after.TokenRequests);
    }

    [Fact]
    public async Task SendAsync_ResetPreset_IsATransportFailure()
    {
        var (client, _) = await NewClientAsync();
        using var _ = client;
        var token = FcmSimulatorFixture.NewToken();
        await fixture.SetTokenBehaviorAsync(token, new { preset = "reset" }, Ct);

        var response = await client.SendAsync(new FcmMessage { Token = token }, cancellationToken: Ct);

        Assert.Equal(FcmResponseClass.Retryable, response.Class);
        Assert.True(response.IsTransportFailure);
        Assert.Equal(0, response.StatusCode);
        Assert.Single(await fixture.ReceivedAsync(token, Ct));
    }

    [Theory]
    [InlineData("fcmUnavailable", 503)]
    [InlineData("fcmQuotaExceeded", 429)]
    public async Task SendAsync_AnswerWithRetryAfter_ExposesIt(string preset, int status)
    {
        var (client, _) = await NewClientAsync();
        using var _ = client;
        var token = FcmSimulatorFixture.NewToken();
        await fixture.SetTokenBehaviorAsync(token, new { preset, retryAfter = 17 }, Ct);

        var response = await client.SendAsync(new FcmMessage { Token = token }, cancellationToken: Ct);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(FcmResponseClass.Retryable, response.Class);
        Assert.Equal(TimeSpan.FromSeconds(17), response.RetryAfter);
    }

    [Fact]
    public async Task SendAsync_TimesLimitedBehavior_IsNotRetriedByTheClient()
    {
        var (client, _) = await NewClientAsync();
        using var _ = client;
        var token = FcmSimulatorFixture.NewToken();
        await fixture.SetTokenBehaviorAsync(token, new { preset = "fcmUnavailable", times = 1 }, Ct);

        var first = await client.SendAsync(new FcmMessage { Token = token }, cancellationToken: Ct);
        var second = await client.SendAsync(new FcmMessage { Token = token }, cancellationToken: Ct);

        Assert.Equal(FcmResponseClass.Retryable, first.Class);
        Assert.Equal(FcmResponseClass.Delivered, second.Class);
        Assert.Equal(2, (await fixture.ReceivedAsync(token, Ct)).Count);
    }

    [Fact]
    public async Task SendAsync_ValidateOnly_ReturnsTheFakeNameAndSendsTheFlag()
    {
        var (client, projectId) = await NewClientAsync();
        using var _ = client;
        var token = FcmSimulatorFixture.NewToken();

        var response = await client.SendAsync(new FcmMessage { Token = token, Notification = new FcmNotification { Title = "dry" } }, validateOnly: true, Ct);

        Assert.Equal(FcmResponseClass.Delivered, response.Class);
        Assert.Equal($"projects/{projectId}/messages/fake_message_id", response.MessageName);
        var received = Assert.Single(await fixture.ReceivedAsync(token, Ct));
        Assert.True((bool)received!["body"]!["validate_only"]!);
    }

    [Fact]
    public async Task SendAsync_RawMessageWithNumberInData_IsRequestRejected()
    {
        var (client, _) = await NewClientAsync();
        using var _ = client;
        var token = FcmSimulatorFixture.NewToken();
        var raw = new FcmMessage { Token = token, Data = new Dictionary<string, string> { ["ok"] = "1" } }.ToJsonObject();
        raw["data"]!["count"] = 12;

        var response = await client.SendAsync(raw, cancellationToken: Ct);

        Assert.Equal(400, response.StatusCode);
        Assert.Equal(FcmResponseClass.RequestRejected, response.Class);
        Assert.Equal("INVALID_ARGUMENT", response.ErrorStatus);
        Assert.Equal(FcmErrorCode.None, response.ErrorCode);
        Assert.False(response.IsLocalRejection);
        Assert.Single(await fixture.ReceivedAsync(token, Ct));
    }

    [Fact]
    public async Task SendAsync_RawMessageWithOverrides_SendsTheMergedObject()
    {
        var (client, _) = await NewClientAsync();
        using var _ = client;
        var token = FcmSimulatorFixture.NewToken();
        var raw = new FcmMessage { Token = token, Apns = new FcmApnsConfig { Payload = new JsonObject { ["aps"] = new JsonObject { ["badge"] = 3 } } } }.ToJsonObject();
        raw["apns"]!["headers"] = new JsonObject { ["apns-priority"] = "5" };

        var response = await client.SendAsync(raw, cancellationToken: Ct);

        Assert.Equal(FcmResponseClass.Delivered, response.Class);
        var message = Assert.Single(await fixture.ReceivedAsync(token, Ct))!["body"]!["message"]!;
        Assert.Equal("5", (string?)message["apns"]!["headers"]!["apns-priority"]);
        Assert.Equal(3, (int)message["apns"]!["payload"]!["aps"]!["badge"]!);
    }

    [Fact]
    public async Task SendAsync_TooBigForAToken_IsRejectedLocallyAndNothingIsSent()
    {
        var (client, _) = await NewClientAsync();
        using var _ = client;
        var token = FcmSimulatorFixture.NewToken();
        var before = await fixture.FcmCountersAsync(Ct);

        var response = await client.SendAsync(new FcmMessage { Token = token, Data = new Dictionary<string, string> { ["blob"] = new string('x', 4096) } }, cancellationToken: Ct);

        Assert.Equal(FcmResponseClass.RequestRejected, response.Class);
        Assert.True(response.IsLocalRejection);
        Assert.Equal(400, response.StatusCode);
        Assert.Contains("Message too big", response.ErrorMessage);
        Assert.Empty(await fixture.ReceivedAsync(token, Ct));
        var after = await fixture.FcmCountersAsync(Ct);
        Assert.Equal(before.Requests, after.Requests);
        Assert.Equal(before.TokenRequests, after.TokenRequests);
    }

    [Fact]
    public async Task SendAsync_TopicMessageOver2048_IsRejectedLocallyWhileTheSameSizeToATokenIsSent()
    {
        var (client, _) = await NewClientAsync();
        using var _ = client;
        var token = FcmSimulatorFixture.NewToken();
        var data = new Dictionary<string, string> { ["blob"] = new string('x', 2100) };
        var before = await fixture.FcmCountersAsync(Ct);

        var toTopic = await client.SendAsync(new FcmMessage { Topic = "news", Data = data }, cancellationToken: Ct);
        var afterTopic = await fixture.FcmCountersAsync(Ct);
        var toToken = await client.SendAsync(new FcmMessage { Token = token, Data = data }, cancellationToken: Ct);

        Assert.True(toTopic.IsLocalRejection);
        Assert.Equal(FcmResponseClass.RequestRejected, toTopic.Class);
        Assert.Equal(before.Requests, afterTopic.Requests);
        Assert.Equal(FcmResponseClass.Delivered, toToken.Class);
    }

    [Fact]
    public async Task SendAsync_JustUnderTheLimit_IsAcceptedBySimulator()
    {
        var (client, _) = await NewClientAsync();
        using var _ = client;
        var token = FcmSimulatorFixture.NewToken();
        var empty = new FcmMessage { Token = token, Data = new Dictionary<string, string> { ["blob"] = "" } };
        var message = new FcmMessage { Token = token, Data = new Dictionary<string, string> { ["blob"] = new string('x', FcmLimits.MaxMessageBytes - FcmLimits.Measure(empty)) } };
        Assert.Equal(FcmLimits.MaxMessageBytes, FcmLimits.Measure(message));

        var response = await client.SendAsync(message, cancellationToken: Ct);

        Assert.Equal(FcmResponseClass.Delivered, response.Class);
    }

    [Fact]
    public async Task SendAsync_AfterAccessTokensAreRevoked_RefreshesOnceAndSucceeds()
    {
        var (client, _) = await NewClientAsync();
        using var _ = client;
        var token = FcmSimulatorFixture.NewToken();
        Assert.Equal(FcmResponseClass.Delivered, (await client.SendAsync(new FcmMessage { Token = token }, cancellationToken: Ct)).Class);
        var before = await fixture.FcmCountersAsync(Ct);

        await fixture.RevokeAccessTokensAsync(Ct);
        var response = await client.SendAsync(new FcmMessage { Token = token }, cancellationToken: Ct);

        Assert.Equal(FcmResponseClass.Delivered, response.Class);
        var after = await fixture.FcmCountersAsync(Ct);
        Assert.Equal(before.TokenRequests + 1, after.TokenRequests);
        Assert.Equal(before.Requests + 2, after.Requests);
        // The simulator records a request it refuses at the auth step without parsing its body (so without its token).
        var statuses = (await fixture.LastReceivedAsync(2, Ct)).Select(item => (int)item["status"]!).ToArray();
        Assert.Equal([401, 200], statuses);

        // The fresh token is cached: the next send needs no token request.
        Assert.Equal(FcmResponseClass.Delivered, (await client.SendAsync(new FcmMessage { Token = token }, cancellationToken: Ct)).Class);
        Assert.Equal(after.TokenRequests, (await fixture.FcmCountersAsync(Ct)).TokenRequests);
    }

    [Fact]
    public async Task SendAsync_ConcurrentSendsAfterRevocation_ShareOneRefresh()
    {
        var (client, _) = await NewClientAsync();
        using var _ = client;
        Assert.True((await client.SendAsync(new FcmMessage { Token = FcmSimulatorFixture.NewToken() }, cancellationToken: Ct)).IsSuccess);
        await fixture.RevokeAccessTokensAsync(Ct);
        var before = await fixture.FcmCountersAsync(Ct);

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.SendAsync(new FcmMessage { Token = FcmSimulatorFixture.NewToken() }, cancellationToken: Ct)));

        Assert.All(responses, r => Assert.Equal(FcmResponseClass.Delivered, r.Class));
        var after = await fixture.FcmCountersAsync(Ct);
        // The library's own refresh (the cached token was not yet known to be bad) may add one more request at most.
        Assert.InRange(after.TokenRequests - before.TokenRequests, 1, 2);
    }

    [Fact]
    public async Task SendAsync_ServiceAccountOfAnotherProject_IsCredentialsRejectedAfterOneRefresh()
    {
        var realProject = FcmSimulatorFixture.NewProject();
        var json = JsonNode.Parse(await fixture.CreateServiceAccountAsync(realProject, Ct))!.AsObject();
        var otherProject = FcmSimulatorFixture.NewProject();
        await fixture.CreateServiceAccountAsync(otherProject, Ct);
        json["project_id"] = otherProject;
        using var client = fixture.CreateClient(json.ToJsonString());
        var token = FcmSimulatorFixture.NewToken();
        var before = await fixture.FcmCountersAsync(Ct);

        var response = await client.SendAsync(new FcmMessage { Token = token }, cancellationToken: Ct);

        Assert.Equal(FcmResponseClass.CredentialsRejected, response.Class);
        Assert.Equal(403, response.StatusCode);
        Assert.Equal("PERMISSION_DENIED", response.ErrorStatus);
        Assert.Equal(FcmErrorCode.None, response.ErrorCode);
        var after = await fixture.FcmCountersAsync(Ct);
        Assert.Equal(before.TokenRequests + 2, after.TokenRequests);
        Assert.Equal(before.Requests + 2, after.Requests);
        Assert.Equal([403, 403], (await fixture.LastReceivedAsync(2, Ct)).Select(item => (int)item["status"]!));
    }

    [Fact]
    public async Task SendAsync_KeyTheTokenEndpointDoesNotKnow_IsCredentialsRejectedAndNothingIsSent()
    {
        var json = JsonNode.Parse(await fixture.CreateServiceAccountAsync(FcmSimulatorFixture.NewProject(), Ct))!.AsObject();
        using (var otherKey = RSA.Create(2048))
        {
            json["private_key"] = otherKey.ExportPkcs8PrivateKeyPem();
        }

        using var client = fixture.CreateClient(json.ToJsonString());
        var token = FcmSimulatorFixture.NewToken();
        var before = await fixture.FcmCountersAsync(Ct);

        var response = await client.SendAsync(new FcmMessage { Token = token }, cancellationToken: Ct);

        Assert.Equal(FcmResponseClass.CredentialsRejected, response.Class);
        Assert.Equal("oauth:invalid_grant", response.TokenEndpointError);
        Assert.Equal(0, response.StatusCode);
        Assert.False(response.IsTransportFailure);
        Assert.DoesNotContain("PRIVATE KEY", response.ToString());
        Assert.Empty(await fixture.ReceivedAsync(token, Ct));
        var after = await fixture.FcmCountersAsync(Ct);
        Assert.Equal(before.Requests, after.Requests);
        Assert.Equal(before.TokenRequests + 1, after.TokenRequests);
    }

    [Fact]
    public async Task SendAsync_UnknownServiceAccount_IsCredentialsRejected()
    {
        var json = JsonNode.Parse(await fixture.CreateServiceAccountAsync(FcmSimulatorFixture.NewProject(), Ct))!.AsObject();
        json["client_email"] = "nobody@" + FcmSimulatorFixture.NewProject() + ".iam.gserviceaccount.com";
        using var client = fixture.CreateClient(json.ToJsonString());

        var response = await client.SendAsync(new FcmMessage { Token = FcmSimulatorFixture.NewToken() }, cancellationToken: Ct);

        Assert.Equal(FcmResponseClass.CredentialsRejected, response.Class);
        Assert.Equal("oauth:invalid_grant", response.TokenEndpointError);
    }

    [Fact]
    public async Task SendAsync_TokenEndpointDown_IsRetryableAndNothingIsSent()
    {
        var (client, _) = await NewClientAsync(o => o.TokenUrl = new Uri($"https://127.0.0.1:{FcmSimulatorFixture.ClosedPort()}/token"));
        using var _ = client;
        var token = FcmSimulatorFixture.NewToken();

        var response = await client.SendAsync(new FcmMessage { Token = token }, cancellationToken: Ct);

        Assert.Equal(FcmResponseClass.Retryable, response.Class);
        Assert.True(response.IsTransportFailure);
        Assert.Equal(FcmTokenErrors.Unreachable, response.TransportError);
        Assert.Equal(0, response.StatusCode);
        Assert.Null(response.TokenEndpointError);
        Assert.Empty(await fixture.ReceivedAsync(token, Ct));
    }

    [Fact]
    public async Task SendAsync_TokenUrlAtTheWrongPath_IsCredentialsRejectedNotAnOutage()
    {
        // The simulator answers an unknown path with 404 and no body, as a mistyped token URL would get.
        var (client, _) = await NewClientAsync(o => o.TokenUrl = new Uri(new Uri(fixture.Sim.FcmUrl.ToString()), "no-such-token-endpoint"));
        using var _ = client;
        var token = FcmSimulatorFixture.NewToken();

        var response = await client.SendAsync(new FcmMessage { Token = token }, cancellationToken: Ct);

        Assert.Equal(FcmResponseClass.CredentialsRejected, response.Class);
        Assert.False(response.IsTransportFailure);
        Assert.Equal("oauth:http_404", response.TokenEndpointError);
        Assert.Empty(await fixture.ReceivedAsync(token, Ct));
    }

    [Fact]
    public async Task SendAsync_ServiceAccountTokenUriElsewhere_IsNeverCalled_TokenComesFromTokenUrl()
    {
        // Google's key files always carry a token_uri; an uploader can write any URL there (an internal one, say).
        await using var elsewhere = await PushGateway.TestSupport.FakeTokenEndpoint.StartAsync(Ct);
        elsewhere.Status = 200;
        elsewhere.Body = """{"access_token":"from-token-uri","expires_in":3599,"token_type":"Bearer"}""";
        var json = JsonNode.Parse(await fixture.CreateServiceAccountAsync(FcmSimulatorFixture.NewProject(), Ct))!.AsObject();
        json["token_uri"] = elsewhere.Url.AbsoluteUri;
        using var client = fixture.CreateClient(json.ToJsonString());
        var before = await fixture.FcmCountersAsync(Ct);

        var response = await client.SendAsync(new FcmMessage { Token = FcmSimulatorFixture.NewToken() }, cancellationToken: Ct);

        Assert.True(response.IsSuccess, response.ToString());
        Assert.Equal(0, elsewhere.Requests);
        Assert.Equal(before.TokenRequests + 1, (await fixture.FcmCountersAsync(Ct)).TokenRequests);
        Assert.Equal(elsewhere.Url, client.ServiceAccount.TokenUri);
    }

    public static TheoryData<int, string, string, FcmResponseClass, string> TokenEndpointAnswers => new()
    {
        // status, content type, body, class, the only text that may come out
        { 400, "application/json", """{"error":"invalid_grant","error_description":"SECRET-7f3a internal page"}""", FcmResponseClass.CredentialsRejected, "oauth:invalid_grant" },
        { 400, "application/json", """{"error":"SECRET-7f3a","error_description":"SECRET-7f3a"}""", FcmResponseClass.CredentialsRejected, "oauth:http_400" },
        { 401, "text/html", "<html><body>SECRET-7f3a admin console</body></html>", FcmResponseClass.CredentialsRejected, "oauth:http_401" },
        { 403, "application/json", """{"error":"unauthorized_client","error_uri":"https://SECRET-7f3a/"}""", FcmResponseClass.CredentialsRejected, "oauth:unauthorized_client" },
        { 503, "text/plain", "SECRET-7f3a upstream", FcmResponseClass.Retryable, "oauth:http_503" },
        { 429, "application/json", """{"error":"temporarily_unavailable","error_description":"SECRET-7f3a"}""", FcmResponseClass.Retryable, "oauth:temporarily_unavailable" },
        { 200, "text/plain", "SECRET-7f3a not a token response", FcmResponseClass.Retryable, "oauth:bad_response" },
        { 200, "application/json", """{"error":"SECRET-7f3a"}""", FcmResponseClass.Retryable, "oauth:bad_response" },
    };

    [Theory]
    [MemberData(nameof(TokenEndpointAnswers))]
    public async Task SendAsync_TokenEndpointError_CarriesOnlyAFixedCode(int status, string contentType, string body, FcmResponseClass expectedClass, string expectedCode)
    {
        await using var endpoint = await PushGateway.TestSupport.FakeTokenEndpoint.StartAsync(Ct);
        endpoint.Status = status;
        endpoint.ContentType = contentType;
        endpoint.Body = body;
        var (client, _) = await NewClientAsync(o => o.TokenUrl = endpoint.Url);
        using var _ = client;

        var response = await client.SendAsync(new FcmMessage { Token = FcmSimulatorFixture.NewToken() }, cancellationToken: Ct);

        Assert.Equal(1, endpoint.Requests);
        Assert.Equal(expectedClass, response.Class);
        Assert.Equal(expectedCode, response.TokenEndpointError ?? response.TransportError);
        foreach (var text in new[] { response.ToString(), response.ErrorMessage, response.TransportError, response.TokenEndpointError, response.ErrorStatus, response.ErrorCodeText })
        {
            Assert.DoesNotContain("SECRET", text ?? "", StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SendAsync_HangPreset_TimesOutAsATransportFailure()
    {
        var (client, _) = await NewClientAsync(o => o.RequestTimeout = TimeSpan.FromSeconds(1));
        using var _ = client;
        Assert.True((await client.SendAsync(new FcmMessage { Token = FcmSimulatorFixture.NewToken() }, cancellationToken: Ct)).IsSuccess);
        var token = FcmSimulatorFixture.NewToken();
        await fixture.SetTokenBehaviorAsync(token, new { preset = "hang" }, Ct);
        var stopwatch = Stopwatch.StartNew();

        var response = await client.SendAsync(new FcmMessage { Token = token }, cancellationToken: Ct);

        stopwatch.Stop();
        Assert.Equal(FcmResponseClass.Retryable, response.Class);
        Assert.True(response.IsTransportFailure);
        Assert.Equal(0, response.StatusCode);
        Assert.Contains("no answer within 1 s", response.TransportError);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(8));
        Assert.Single(await fixture.ReceivedAsync(token, Ct));

        // The connection is still usable afterwards.
        Assert.True((await client.SendAsync(new FcmMessage { Token = FcmSimulatorFixture.NewToken() }, cancellationToken: Ct)).IsSuccess);
    }

    [Fact]
    public async Task SendAsync_CallerCancels_ThrowsOperationCanceled()
    {
        var (client, _) = await NewClientAsync();
        using var _ = client;
        var token = FcmSimulatorFixture.NewToken();
        await fixture.SetTokenBehaviorAsync(token, new { preset = "hang" }, Ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync(new FcmMessage { Token = token }, cancellationToken: cts.Token));
    }

    [Fact]
    public async Task SendAsync_WrongBaseUrl_IsCredentialsRejectedNotTokenInvalid()
    {
        var (client, _) = await NewClientAsync(o => o.BaseUrl = new Uri(new Uri(fixture.Sim.FcmUrl.ToString()), "not-fcm/"));
        using var _ = client;

        var response = await client.SendAsync(new FcmMessage { Token = FcmSimulatorFixture.NewToken() }, cancellationToken: Ct);

        Assert.Equal(404, response.StatusCode);
        Assert.Equal(FcmErrorCode.None, response.ErrorCode);
        Assert.Equal(FcmResponseClass.CredentialsRejected, response.Class);
    }

    [Fact]
    public async Task SendAsync_SimulatorCertificateNotTrusted_IsATransportFailure()
    {
        var (client, _) = await NewClientAsync(o => o.TrustedCertificate = null);
        using var _ = client;

        var response = await client.SendAsync(new FcmMessage { Token = FcmSimulatorFixture.NewToken() }, cancellationToken: Ct);

        Assert.Equal(FcmResponseClass.Retryable, response.Class);
        Assert.True(response.IsTransportFailure);
    }

    [Fact]
    public async Task SendAsync_AfterDispose_Throws()
    {
        var (client, _) = await NewClientAsync();
        client.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.SendAsync(new FcmMessage { Token = "t" }, cancellationToken: Ct));
    }
}
