using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using PushGateway.Apns;

namespace PushGateway.Tests.Apns;

/// <summary>Every answer of Apple's table, over real HTTP/2 against the simulator, with the class the gateway acts on.</summary>
public sealed class ApnsClientRejectionTests(ApnsSimulatorFixture fixture) : IClassFixture<ApnsSimulatorFixture>
{
    private readonly ApnsSimulator _simulator = fixture.Simulator;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<int, string, ApnsResponseClass> ExplicitAnswers => new()
    {
        { 400, "BadCollapseId", ApnsResponseClass.RequestRejected },
        { 400, "BadDeviceToken", ApnsResponseClass.TokenInvalid },
        { 400, "BadExpirationDate", ApnsResponseClass.RequestRejected },
        { 400, "BadMessageId", ApnsResponseClass.RequestRejected },
        { 400, "BadPriority", ApnsResponseClass.RequestRejected },
        { 400, "BadTopic", ApnsResponseClass.CredentialsRejected },
        { 400, "DeviceTokenNotForTopic", ApnsResponseClass.TokenNotForTopic },
        { 400, "DuplicateHeaders", ApnsResponseClass.RequestRejected },
        { 400, "IdleTimeout", ApnsResponseClass.Retryable },
        { 400, "InvalidPushType", ApnsResponseClass.RequestRejected },
        { 400, "MissingDeviceToken", ApnsResponseClass.RequestRejected },
        { 400, "MissingTopic", ApnsResponseClass.RequestRejected },
        { 400, "PayloadEmpty", ApnsResponseClass.RequestRejected },
        { 400, "TopicDisallowed", ApnsResponseClass.CredentialsRejected },
        { 403, "BadCertificate", ApnsResponseClass.CredentialsRejected },
        { 403, "BadCertificateEnvironment", ApnsResponseClass.CredentialsRejected },
        { 403, "ExpiredProviderToken", ApnsResponseClass.ProviderTokenExpired },
        { 403, "Forbidden", ApnsResponseClass.CredentialsRejected },
        { 403, "InvalidProviderToken", ApnsResponseClass.CredentialsRejected },
        { 403, "MissingProviderToken", ApnsResponseClass.CredentialsRejected },
        { 403, "UnrelatedKeyIdInToken", ApnsResponseClass.CredentialsRejected },
        { 403, "BadEnvironmentKeyIdInToken", ApnsResponseClass.CredentialsRejected },
        { 403, "BadEnvironmentKeyInToken", ApnsResponseClass.CredentialsRejected },
        { 404, "BadPath", ApnsResponseClass.RequestRejected },
        { 405, "MethodNotAllowed", ApnsResponseClass.RequestRejected },
        { 410, "ExpiredToken", ApnsResponseClass.TokenUnregistered },
        { 410, "Unregistered", ApnsResponseClass.TokenUnregistered },
        { 413, "PayloadTooLarge", ApnsResponseClass.RequestRejected },
        { 429, "TooManyProviderTokenUpdates", ApnsResponseClass.CredentialsRejected },
        { 429, "TooManyRequests", ApnsResponseClass.Retryable },
        { 500, "InternalServerError", ApnsResponseClass.Retryable },
        { 503, "ServiceUnavailable", ApnsResponseClass.Retryable },
        { 503, "Shutdown", ApnsResponseClass.Retryable },
    };

    [Theory]
    [MemberData(nameof(ExplicitAnswers))]
    public async Task SendAsync_SimulatorAnswersRow_ReturnsStatusReasonAndClass(int status, string reason, ApnsResponseClass expected)
    {
        await using var client = new ApnsClient(_simulator.Options(), await _simulator.AddKeyAsync(cancellationToken: Ct));
        var token = ApnsTestData.NewDeviceToken();
        await _simulator.SetTokenAsync(token, new JsonObject { ["apns"] = new JsonObject { ["status"] = status, ["reason"] = reason } }, Ct);
        var apnsId = Guid.NewGuid();

        var response = await client.SendAsync(new ApnsRequest { DeviceToken = token, Topic = "com.example.app", ApnsId = apnsId, Payload = ApnsTestData.Payload }, Ct);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(reason, response.ReasonText);
        Assert.Equal(ApnsReasons.Parse(reason), response.Reason);
        Assert.NotEqual(ApnsReason.Unknown, response.Reason);
        Assert.Equal(expected, response.Class);
        Assert.NotNull(response.ApnsId);
        if (reason != "BadMessageId")
        {
            Assert.Equal(apnsId, response.ApnsId);
        }

        Assert.False(response.IsTransportFailure);
    }

    [Fact]
    public async Task SendAsync_UnregisteredPreset_ParsesTheTimestamp()
    {
        await using var client = new ApnsClient(_simulator.Options(), await _simulator.AddKeyAsync(cancellationToken: Ct));
        var token = ApnsTestData.NewDeviceToken();
        var invalidatedAt = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_123_456);
        await _simulator.SetTokenAsync(token, new JsonObject { ["preset"] = "unregistered", ["timestamp"] = invalidatedAt.ToUnixTimeMilliseconds() }, Ct);

        var response = await client.SendAsync(ApnsTestData.Request(token), Ct);

        Assert.Equal(410, response.StatusCode);
        Assert.Equal(ApnsReason.Unregistered, response.Reason);
        Assert.Equal(ApnsResponseClass.TokenUnregistered, response.Class);
        Assert.Equal(invalidatedAt, response.Timestamp);
    }

    [Theory]
    [InlineData("expiredToken", 410, "ExpiredToken", ApnsResponseClass.TokenUnregistered)]
    [InlineData("badDeviceToken", 400, "BadDeviceToken", ApnsResponseClass.TokenInvalid)]
    [InlineData("notForTopic", 400, "DeviceTokenNotForTopic", ApnsResponseClass.TokenNotForTopic)]
    [InlineData("tooManyRequests", 429, "TooManyRequests", ApnsResponseClass.Retryable)]
    [InlineData("internalError", 500, "InternalServerError", ApnsResponseClass.Retryable)]
    [InlineData("serviceUnavailable", 503, "ServiceUnavailable", ApnsResponseClass.Retryable)]
    [InlineData("shutdown", 503, "Shutdown", ApnsResponseClass.Retryable)]
    [InlineData("idleTimeout", 400, "IdleTimeout", ApnsResponseClass.Retryable)]
    [InlineData("payloadTooLarge", 413, "PayloadTooLarge", ApnsResponseClass.RequestRejected)]
    public async Task SendAsync_Preset_ReturnsItsAnswerThenLaterRequestsSucceed(string preset, int status, string reason, ApnsResponseClass expected)
    {
        await using var client = new ApnsClient(_simulator.Options(), await _simulator.AddKeyAsync(cancellationToken: Ct));
        var token = ApnsTestData.NewDeviceToken();
        await _simulator.SetTokenAsync(token, new JsonObject { ["preset"] = preset, ["times"] = 1 }, Ct);

        var response = await client.SendAsync(ApnsTestData.Request(token), Ct);
        var next = await client.SendAsync(ApnsTestData.Request(token), Ct);

        Assert.Equal((status, reason, expected), (response.StatusCode, response.ReasonText, response.Class));
        Assert.True(next.IsAccepted, next.ToString());
    }

    [Fact]
    public async Task SendAsync_TooManyRequestsWithRetryAfter_ReturnsTheDelay()
    {
        await using var client = new ApnsClient(_simulator.Options(), await _simulator.AddKeyAsync(cancellationToken: Ct));
        var token = ApnsTestData.NewDeviceToken();
        await _simulator.SetTokenAsync(token, new JsonObject { ["preset"] = "tooManyRequests", ["retryAfter"] = 120 }, Ct);

        var response = await client.SendAsync(ApnsTestData.Request(token), Ct);

        Assert.Equal(ApnsResponseClass.Retryable, response.Class);
        Assert.Equal(TimeSpan.FromSeconds(120), response.RetryAfter);
    }

    [Fact]
    public async Task SendAsync_MissingTopic_Returns400MissingTopic()
    {
        await using var client = new ApnsClient(_simulator.Options(), await _simulator.AddKeyAsync(cancellationToken: Ct));

        var response = await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken(), topic: ""), Ct);

        Assert.Equal((400, ApnsReason.MissingTopic, ApnsResponseClass.RequestRejected), (response.StatusCode, response.Reason, response.Class));
    }

    [Fact]
    public async Task SendAsync_TopicTheKeyMayNotUse_Returns400TopicDisallowed()
    {
        var credentials = await _simulator.AddKeyAsync(topics: ["com.example.app"], cancellationToken: Ct);
        await using var client = new ApnsClient(_simulator.Options(), credentials);

        var allowed = await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken(), "com.example.app"), Ct);
        var response = await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken(), "com.other.app"), Ct);

        Assert.True(allowed.IsAccepted, allowed.ToString());
        Assert.Equal((400, ApnsReason.TopicDisallowed, ApnsResponseClass.CredentialsRejected), (response.StatusCode, response.Reason, response.Class));
    }

    [Fact]
    public async Task SendAsync_CollapseIdOver64Bytes_Returns400BadCollapseId()
    {
        await using var client = new ApnsClient(_simulator.Options(), await _simulator.AddKeyAsync(cancellationToken: Ct));
        var token = ApnsTestData.NewDeviceToken();

        var atLimit = await client.SendAsync(new ApnsRequest { DeviceToken = token, Topic = "com.example.app", CollapseId = new string('c', 64), Payload = ApnsTestData.Payload }, Ct);
        var over = await client.SendAsync(new ApnsRequest { DeviceToken = token, Topic = "com.example.app", CollapseId = new string('c', 65), Payload = ApnsTestData.Payload }, Ct);
        // 33 two-byte characters: 33 characters but 66 bytes, so the limit is counted in UTF-8 bytes.
        var overInBytes = await client.SendAsync(new ApnsRequest { DeviceToken = token, Topic = "com.example.app", CollapseId = new string('é', 33), Payload = ApnsTestData.Payload }, Ct);

        Assert.True(atLimit.IsAccepted, atLimit.ToString());
        Assert.Equal((400, ApnsReason.BadCollapseId, ApnsResponseClass.RequestRejected), (over.StatusCode, over.Reason, over.Class));
        Assert.Equal(ApnsReason.BadCollapseId, overInBytes.Reason);
    }

    [Theory]
    [InlineData(ApnsPushType.Alert, 7)]
    [InlineData(ApnsPushType.Background, 10)]
    public async Task SendAsync_BadPriority_Returns400BadPriority(ApnsPushType pushType, int priority)
    {
        await using var client = new ApnsClient(_simulator.Options(), await _simulator.AddKeyAsync(cancellationToken: Ct));

        var response = await client.SendAsync(
            new ApnsRequest { DeviceToken = ApnsTestData.NewDeviceToken(), Topic = "com.example.app", PushType = pushType, Priority = priority, Payload = ApnsTestData.Payload },
            Ct);

        Assert.Equal((400, ApnsReason.BadPriority, ApnsResponseClass.RequestRejected), (response.StatusCode, response.Reason, response.Class));
    }

    [Theory]
    [InlineData(ApnsPushType.Voip, "com.example.app")]
    [InlineData(ApnsPushType.LiveActivity, "com.example.app")]
    public async Task SendAsync_TopicWithoutThePushTypeSuffix_Returns400BadTopic(ApnsPushType pushType, string topic)
    {
        await using var client = new ApnsClient(_simulator.Options(), await _simulator.AddKeyAsync(cancellationToken: Ct));

        var wrong = await client.SendAsync(
            new ApnsRequest { DeviceToken = ApnsTestData.NewDeviceToken(), Topic = topic, PushType = pushType, Payload = ApnsTestData.Payload }, Ct);
        var right = await client.SendAsync(
            new ApnsRequest { DeviceToken = ApnsTestData.NewDeviceToken(), Topic = topic + ApnsPushTypes.TopicSuffix(pushType), PushType = pushType, Payload = ApnsTestData.Payload },
            Ct);

        Assert.Equal((400, ApnsReason.BadTopic, ApnsResponseClass.CredentialsRejected), (wrong.StatusCode, wrong.Reason, wrong.Class));
        Assert.True(right.IsAccepted, right.ToString());
    }

    [Fact]
    public async Task SendAsync_OddLengthHexToken_Returns400BadDeviceTokenFromTheServer()
    {
        await using var client = new ApnsClient(_simulator.Options(), await _simulator.AddKeyAsync(cancellationToken: Ct));

        var response = await client.SendAsync(ApnsTestData.Request("abc"), Ct);

        Assert.Equal((400, ApnsReason.BadDeviceToken, ApnsResponseClass.TokenInvalid), (response.StatusCode, response.Reason, response.Class));
        Assert.False(response.IsLocalRejection);
    }

    [Fact]
    public async Task SendAsync_NonHexToken_IsRejectedLocallyAsBadDeviceToken()
    {
        await using var client = new ApnsClient(_simulator.Options(), await _simulator.AddKeyAsync(cancellationToken: Ct));

        var response = await client.SendAsync(ApnsTestData.Request("abcd/../x?y"), Ct);

        Assert.Equal((400, ApnsReason.BadDeviceToken, ApnsResponseClass.TokenInvalid), (response.StatusCode, response.Reason, response.Class));
        Assert.True(response.IsLocalRejection);
    }

    [Fact]
    public async Task SendAsync_SandboxTokenToProduction_Returns400BadDeviceToken()
    {
        await using var client = new ApnsClient(_simulator.Options(), await _simulator.AddKeyAsync(cancellationToken: Ct));
        await using var sandbox = new ApnsClient(_simulator.Options(sandbox: true), await _simulator.AddKeyAsync(cancellationToken: Ct));
        var token = ApnsTestData.NewDeviceToken();
        await _simulator.SetTokenAsync(token, new JsonObject { ["environment"] = "sandbox" }, Ct);

        var production = await client.SendAsync(ApnsTestData.Request(token), Ct);
        var inSandbox = await sandbox.SendAsync(ApnsTestData.Request(token), Ct);

        Assert.Equal((400, ApnsReason.BadDeviceToken, ApnsResponseClass.TokenInvalid), (production.StatusCode, production.Reason, production.Class));
        Assert.True(inSandbox.IsAccepted, inSandbox.ToString());
    }

    [Fact]
    public async Task SendAsync_TokenOfAnotherTopic_Returns400DeviceTokenNotForTopic()
    {
        await using var client = new ApnsClient(_simulator.Options(), await _simulator.AddKeyAsync(cancellationToken: Ct));
        var token = ApnsTestData.NewDeviceToken();
        await _simulator.SetTokenAsync(token, new JsonObject { ["topic"] = "com.example.app" }, Ct);

        var response = await client.SendAsync(ApnsTestData.Request(token, "com.example.other"), Ct);

        Assert.Equal((400, ApnsReason.DeviceTokenNotForTopic, ApnsResponseClass.TokenNotForTopic), (response.StatusCode, response.Reason, response.Class));
    }

    [Fact]
    public async Task SendAsync_EmptyPayload_Returns400PayloadEmpty()
    {
        await using var client = new ApnsClient(_simulator.Options(), await _simulator.AddKeyAsync(cancellationToken: Ct));

        var response = await client.SendAsync(
            new ApnsRequest { DeviceToken = ApnsTestData.NewDeviceToken(), Topic = "com.example.app", Payload = ReadOnlyMemory<byte>.Empty }, Ct);

        Assert.Equal((400, ApnsReason.PayloadEmpty, ApnsResponseClass.RequestRejected), (response.StatusCode, response.Reason, response.Class));
    }

    [Fact]
    public async Task SendAsync_PayloadThatIsNotAnObject_Returns400WithTheSimulatorsReasonText()
    {
        await using var client = new ApnsClient(_simulator.Options(), await _simulator.AddKeyAsync(cancellationToken: Ct));

        var response = await client.SendAsync(
            new ApnsRequest { DeviceToken = ApnsTestData.NewDeviceToken(), Topic = "com.example.app", Payload = "[1,2]"u8.ToArray() }, Ct);

        Assert.Equal(400, response.StatusCode);
        Assert.Equal("BadPayload", response.ReasonText);
        Assert.Equal(ApnsReason.Unknown, response.Reason);
        Assert.Equal(ApnsResponseClass.RequestRejected, response.Class);
    }

    [Fact]
    public async Task SendAsync_PayloadOverTheLimit_IsRejectedLocallyAndNothingIsSent()
    {
        await using var client = new ApnsClient(_simulator.Options(), await _simulator.AddKeyAsync(cancellationToken: Ct));
        var token = ApnsTestData.NewDeviceToken();
        var tooBig = Encoding.UTF8.GetBytes("{\"aps\":{},\"x\":\"" + new string('x', 4096) + "\"}");

        var response = await client.SendAsync(new ApnsRequest { DeviceToken = token, Topic = "com.example.app", Payload = tooBig }, Ct);

        Assert.Equal((413, ApnsReason.PayloadTooLarge, ApnsResponseClass.RequestRejected), (response.StatusCode, response.Reason, response.Class));
        Assert.Equal("PayloadTooLarge", response.ReasonText);
        Assert.True(response.IsLocalRejection);
        Assert.Empty(await _simulator.GetReceivedAsync(token, Ct));
    }

    [Fact]
    public async Task SendAsync_VoipPayloadBetween4096And5120Bytes_IsAccepted()
    {
        await using var client = new ApnsClient(_simulator.Options(), await _simulator.AddKeyAsync(cancellationToken: Ct));
        var payload = Encoding.UTF8.GetBytes("{\"aps\":{},\"x\":\"" + new string('x', 5000) + "\"}");

        var voip = await client.SendAsync(
            new ApnsRequest { DeviceToken = ApnsTestData.NewDeviceToken(), Topic = "com.example.app.voip", PushType = ApnsPushType.Voip, Payload = payload }, Ct);
        var alert = await client.SendAsync(
            new ApnsRequest { DeviceToken = ApnsTestData.NewDeviceToken(), Topic = "com.example.app", PushType = ApnsPushType.Alert, Payload = payload }, Ct);

        Assert.True(voip.IsAccepted, voip.ToString());
        Assert.Equal(413, alert.StatusCode);
        Assert.True(alert.IsLocalRejection);
    }

    [Fact]
    public async Task SendAsync_KeyIdRegisteredButAnotherPrivateKey_Returns403InvalidProviderToken()
    {
        var registered = await _simulator.AddKeyAsync(cancellationToken: Ct);
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await using var client = new ApnsClient(_simulator.Options(), registered with { PrivateKeyPem = otherKey.ExportPkcs8PrivateKeyPem() });

        var response = await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);

        Assert.Equal((403, ApnsReason.InvalidProviderToken, ApnsResponseClass.CredentialsRejected), (response.StatusCode, response.Reason, response.Class));
    }

    [Fact]
    public async Task SendAsync_UnknownKeyId_Returns403InvalidProviderToken()
    {
        var registered = await _simulator.AddKeyAsync(cancellationToken: Ct);
        await using var client = new ApnsClient(_simulator.Options(), registered with { KeyId = "NOSUCHKEY1" });

        var response = await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);

        Assert.Equal((403, ApnsReason.InvalidProviderToken, ApnsResponseClass.CredentialsRejected), (response.StatusCode, response.Reason, response.Class));
    }

    [Fact]
    public async Task SendAsync_TeamIdThatIsNotTheKeysTeam_Returns403InvalidProviderToken()
    {
        var registered = await _simulator.AddKeyAsync(teamId: "TEAMAAAAAA", cancellationToken: Ct);
        await using var client = new ApnsClient(_simulator.Options(), registered with { TeamId = "TEAMBBBBBB" });

        var response = await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);

        Assert.Equal((403, ApnsReason.InvalidProviderToken, ApnsResponseClass.CredentialsRejected), (response.StatusCode, response.Reason, response.Class));
    }

    [Fact]
    public async Task SendAsync_AfterTheKeyIsRevoked_Returns403InvalidProviderToken()
    {
        var credentials = await _simulator.AddKeyAsync(cancellationToken: Ct);
        await using var client = new ApnsClient(_simulator.Options(), credentials);
        var before = await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);

        await _simulator.RevokeKeyAsync(credentials.KeyId, Ct);
        var after = await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);

        Assert.True(before.IsAccepted, before.ToString());
        Assert.Equal((403, ApnsReason.InvalidProviderToken, ApnsResponseClass.CredentialsRejected), (after.StatusCode, after.Reason, after.Class));
    }

    [Theory]
    [InlineData("BadEnvironmentKeyInToken")]
    [InlineData("BadEnvironmentKeyIdInToken")]
    public async Task SendAsync_SandboxKeyOnProduction_Returns403BadEnvironmentKeyInEitherSpelling(string spelling)
    {
        await _simulator.PutSettingsAsync(new JsonObject { ["badEnvironmentKeySpelling"] = spelling }, Ct);
        try
        {
            var credentials = await _simulator.AddKeyAsync(environment: "sandbox", cancellationToken: Ct);
            await using var production = new ApnsClient(_simulator.Options(), credentials);
            await using var sandbox = new ApnsClient(_simulator.Options(sandbox: true), credentials);

            var wrong = await production.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);
            var right = await sandbox.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);

            Assert.Equal(403, wrong.StatusCode);
            Assert.Equal(spelling, wrong.ReasonText);
            Assert.Equal(ApnsReason.BadEnvironmentKeyIdInToken, wrong.Reason);
            Assert.Equal(ApnsResponseClass.CredentialsRejected, wrong.Class);
            Assert.True(right.IsAccepted, right.ToString());
        }
        finally
        {
            await _simulator.PutSettingsAsync(new JsonObject { ["badEnvironmentKeySpelling"] = "BadEnvironmentKeyInToken" }, Ct);
        }
    }

    [Fact]
    public async Task SendAsync_Accepted_ReturnsApnsIdAndOnlyTheSandboxSendsApnsUniqueId()
    {
        var credentials = await _simulator.AddKeyAsync(cancellationToken: Ct);
        await using var production = new ApnsClient(_simulator.Options(), credentials);
        await using var sandbox = new ApnsClient(_simulator.Options(sandbox: true), credentials);
        var apnsId = Guid.NewGuid();

        var fromProduction = await production.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);
        var fromSandbox = await sandbox.SendAsync(
            new ApnsRequest { DeviceToken = ApnsTestData.NewDeviceToken(), Topic = "com.example.app", ApnsId = apnsId, Payload = ApnsTestData.Payload }, Ct);

        Assert.Equal((200, ApnsResponseClass.Accepted, ApnsReason.None), (fromProduction.StatusCode, fromProduction.Class, fromProduction.Reason));
        Assert.NotNull(fromProduction.ApnsId);
        Assert.Null(fromProduction.ApnsUniqueId);
        Assert.True(fromSandbox.IsAccepted, fromSandbox.ToString());
        Assert.Equal(apnsId, fromSandbox.ApnsId);
        Assert.False(string.IsNullOrEmpty(fromSandbox.ApnsUniqueId));
    }

    [Fact]
    public async Task SendAsync_RegisteredCertificate_IsAcceptedWithoutTopicAndRejectedInTheWrongEnvironment()
    {
        using var certificate = await _simulator.AddCertificateAsync("com.example.certapp", environment: "production", cancellationToken: Ct);
        await using var production = new ApnsClient(_simulator.Options(), new ApnsCertificateCredentials(certificate));
        await using var sandbox = new ApnsClient(_simulator.Options(sandbox: true), new ApnsCertificateCredentials(certificate));
        var token = ApnsTestData.NewDeviceToken();

        var withTopic = await production.SendAsync(ApnsTestData.Request(token, "com.example.certapp"), Ct);
        var withoutTopic = await production.SendAsync(ApnsTestData.Request(token, ""), Ct);
        var voip = await production.SendAsync(
            new ApnsRequest { DeviceToken = token, Topic = "com.example.certapp.voip", PushType = ApnsPushType.Voip, Payload = ApnsTestData.Payload }, Ct);
        var otherApp = await production.SendAsync(ApnsTestData.Request(token, "com.example.other"), Ct);
        var wrongEnvironment = await sandbox.SendAsync(ApnsTestData.Request(token, "com.example.certapp"), Ct);

        Assert.True(withTopic.IsAccepted, withTopic.ToString());
        Assert.True(withoutTopic.IsAccepted, withoutTopic.ToString());
        Assert.True(voip.IsAccepted, voip.ToString());
        Assert.Equal((400, ApnsReason.TopicDisallowed, ApnsResponseClass.CredentialsRejected), (otherApp.StatusCode, otherApp.Reason, otherApp.Class));
        Assert.Equal((403, ApnsReason.BadCertificateEnvironment, ApnsResponseClass.CredentialsRejected), (wrongEnvironment.StatusCode, wrongEnvironment.Reason, wrongEnvironment.Class));
        var received = await _simulator.GetReceivedAsync(token, Ct);
        Assert.Equal("com.example.certapp", received[1]!["topic"]!.GetValue<string>());
    }

    [Fact]
    public async Task SendAsync_UnregisteredCertificate_Returns403BadCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=Apple Push Services: com.example.unknown", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var selfMade = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        using var certificate = X509CertificateLoader.LoadPkcs12(selfMade.Export(X509ContentType.Pkcs12), null);
        await using var client = new ApnsClient(_simulator.Options(), new ApnsCertificateCredentials(certificate));

        var response = await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken(), "com.example.unknown"), Ct);

        Assert.Equal((403, ApnsReason.BadCertificate, ApnsResponseClass.CredentialsRejected), (response.StatusCode, response.Reason, response.Class));
    }
}
