using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PushGateway.Simulator;

namespace PushGateway.Tests.Simulator;

/// <summary>Contract check 3: provider tokens (ES256 JWT) and provider certificates.</summary>
public sealed class ApnsAuthenticationTests
{
    [Fact]
    public async Task Send_JwtSignedByAnotherKey_IsInvalidProviderToken()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var forged = TestJwt.Es256(other.ExportPkcs8PrivateKeyPem(), t.Key.KeyId, t.Key.TeamId, t.Time.GetUtcNow());

        var reply = await t.SendAsync(jwt: forged, cancellationToken: ct);

        Assert.Equal((HttpStatusCode.Forbidden, ApnsReasons.InvalidProviderToken), (reply.Status, reply.Reason));
    }

    [Theory]
    [InlineData("unknown-kid")]
    [InlineData("wrong-iss")]
    [InlineData("alg-hs256")]
    [InlineData("garbage")]
    [InlineData("tampered-payload")]
    public async Task Send_MalformedOrMismatchedJwt_IsInvalidProviderToken(string @case)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        var now = t.Time.GetUtcNow();
        var jwt = @case switch
        {
            "unknown-kid" => TestJwt.Es256(t.Key.PrivateKeyPem!, "NOSUCHKEY1", t.Key.TeamId, now),
            "wrong-iss" => TestJwt.Es256(t.Key.PrivateKeyPem!, t.Key.KeyId, "OTHERTEAM1", now),
            "alg-hs256" => TestJwt.Es256(t.Key.PrivateKeyPem!, t.Key.KeyId, t.Key.TeamId, now, alg: "HS256"),
            "garbage" => "not.a.jwt",
            "tampered-payload" => Tamper(t.Jwt()),
            _ => throw new ArgumentOutOfRangeException(nameof(@case)),
        };

        var reply = await t.SendAsync(jwt: jwt, cancellationToken: ct);

        Assert.Equal((HttpStatusCode.Forbidden, ApnsReasons.InvalidProviderToken), (reply.Status, reply.Reason));

        static string Tamper(string jwt)
        {
            var parts = jwt.Split('.');
            parts[1] = TestJwt.Base64Url("""{"iss":"TEAM123456","iat":1}"""u8.ToArray());
            return string.Join('.', parts);
        }
    }

    [Fact]
    public async Task Send_JwtOlderThanOneHour_IsExpiredProviderToken()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        var jwt = t.Jwt();

        var fresh = await t.SendAsync(jwt: jwt, cancellationToken: ct);
        t.Time.Advance(TimeSpan.FromMinutes(59));
        var stillFine = await t.SendAsync(jwt: jwt, cancellationToken: ct);
        t.Time.Advance(TimeSpan.FromMinutes(2));
        var expired = await t.SendAsync(jwt: jwt, cancellationToken: ct);

        Assert.Equal(HttpStatusCode.OK, fresh.Status);
        Assert.Equal(HttpStatusCode.OK, stillFine.Status);
        Assert.Equal((HttpStatusCode.Forbidden, ApnsReasons.ExpiredProviderToken), (expired.Status, expired.Reason));
    }

    [Fact]
    public async Task Send_JwtIssuedInTheFuture_IsInvalidProviderToken()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);

        var future = await t.SendAsync(jwt: t.NewJwt(t.Time.GetUtcNow().AddMinutes(10)), cancellationToken: ct);
        var smallSkew = await t.SendAsync(jwt: t.NewJwt(t.Time.GetUtcNow().AddMinutes(1)), client: t.NewClient(), cancellationToken: ct);

        Assert.Equal((HttpStatusCode.Forbidden, ApnsReasons.InvalidProviderToken), (future.Status, future.Reason));
        Assert.Equal(HttpStatusCode.OK, smallSkew.Status);
    }

    [Fact]
    public async Task Send_AfterKeyRevoked_IsInvalidProviderTokenEvenOnAConnectionThatVerifiedIt()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);

        var before = await t.SendAsync(cancellationToken: ct);
        Assert.True(t.State.RevokeApnsKey(t.Key.KeyId));
        var after = await t.SendAsync(cancellationToken: ct);

        Assert.Equal(HttpStatusCode.OK, before.Status);
        Assert.Equal((HttpStatusCode.Forbidden, ApnsReasons.InvalidProviderToken), (after.Status, after.Reason));
    }

    [Fact]
    public async Task Send_SameJwtManyTimes_VerifiesOncePerConnectionAndStillChecksExpiry()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await t.SendAsync(cancellationToken: ct)).Status);
        }

        // The cached verification must not skip the clock.
        t.Time.Advance(TimeSpan.FromMinutes(61));
        var expired = await t.SendAsync(cancellationToken: ct);
        Assert.Equal(ApnsReasons.ExpiredProviderToken, expired.Reason);
    }

    [Theory]
    [InlineData(ApnsEnvironment.Production, false, 200, null)]
    [InlineData(ApnsEnvironment.Production, true, 403, ApnsReasons.BadEnvironmentKeyInToken)]
    [InlineData(ApnsEnvironment.Sandbox, true, 200, null)]
    [InlineData(ApnsEnvironment.Sandbox, false, 403, ApnsReasons.BadEnvironmentKeyInToken)]
    [InlineData(ApnsEnvironment.Both, true, 200, null)]
    [InlineData(ApnsEnvironment.Both, false, 200, null)]
    public async Task Send_KeyRestrictedToOneEnvironment_IsRejectedOnTheOther(ApnsEnvironment keyEnvironment, bool sandbox, int status, string? reason)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(
            key: new ApnsKeyRequest { TeamId = ApnsTestContext.TeamId, Environment = keyEnvironment }, cancellationToken: ct);

        var reply = await t.SendAsync(sandbox: sandbox, cancellationToken: ct);

        Assert.Equal((status, reason), ((int)reply.Status, reply.Reason));
    }

    [Fact]
    public async Task Send_KeyForOtherEnvironment_UsesTheConfiguredSpelling()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(
            key: new ApnsKeyRequest { TeamId = ApnsTestContext.TeamId, Environment = ApnsEnvironment.Production }, cancellationToken: ct);
        t.State.UpdateSettings(new SimulatorSettingsUpdate { BadEnvironmentKeySpelling = ApnsReasons.BadEnvironmentKeyIdInToken });

        var reply = await t.SendAsync(sandbox: true, cancellationToken: ct);

        Assert.Equal((HttpStatusCode.Forbidden, ApnsReasons.BadEnvironmentKeyIdInToken), (reply.Status, reply.Reason));
    }

    [Fact]
    public async Task Send_SecondTeamOnSameConnection_IsInvalidProviderToken_ButWorksOnANewConnection()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        var otherTeam = t.State.AddApnsKey(new ApnsKeyRequest { TeamId = "OTHERTEAM1" });
        var otherJwt = TestJwt.Es256(otherTeam.PrivateKeyPem!, otherTeam.KeyId, otherTeam.TeamId, t.Time.GetUtcNow());
        t.Time.Advance(TimeSpan.FromMinutes(30)); // keep the 20-minute rule out of the picture

        var first = await t.SendAsync(cancellationToken: ct);
        t.Time.Advance(TimeSpan.FromMinutes(25));
        var pinned = await t.SendAsync(jwt: otherJwt, cancellationToken: ct);
        using var fresh = t.NewClient();
        var newConnection = await t.SendAsync(jwt: otherJwt, client: fresh, cancellationToken: ct);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal((HttpStatusCode.Forbidden, ApnsReasons.InvalidProviderToken), (pinned.Status, pinned.Reason));
        Assert.Equal(HttpStatusCode.OK, newConnection.Status);
    }

    [Fact]
    public async Task Send_NewJwtWithin20MinutesOnSameConnection_IsTooManyProviderTokenUpdates()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        var first = t.Jwt();

        var firstUse = await t.SendAsync(jwt: first, cancellationToken: ct);
        t.Time.Advance(TimeSpan.FromMinutes(19));
        var second = t.NewJwt();
        var tooSoon = await t.SendAsync(jwt: second, cancellationToken: ct);
        var oldStillWorks = await t.SendAsync(jwt: first, cancellationToken: ct);
        t.Time.Advance(TimeSpan.FromMinutes(1));
        var afterTwenty = await t.SendAsync(jwt: second, cancellationToken: ct);

        // The first JWT on a connection is free, whatever happened on other connections.
        using var fresh = t.NewClient();
        var onFreshConnection = await t.SendAsync(jwt: t.NewJwt(), client: fresh, cancellationToken: ct);

        Assert.Equal(HttpStatusCode.OK, firstUse.Status);
        Assert.Equal(((HttpStatusCode)429, ApnsReasons.TooManyProviderTokenUpdates), (tooSoon.Status, tooSoon.Reason));
        Assert.Equal(HttpStatusCode.OK, oldStillWorks.Status);
        Assert.Equal(HttpStatusCode.OK, afterTwenty.Status);
        Assert.Equal(HttpStatusCode.OK, onFreshConnection.Status);
    }

    [Fact]
    public async Task Send_NewJwtWithin20Minutes_IsAcceptedWhenTheRuleIsSwitchedOff()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        t.State.UpdateSettings(new SimulatorSettingsUpdate { TokenUpdateMinIntervalSeconds = 0 });

        var first = await t.SendAsync(cancellationToken: ct);
        var second = await t.SendAsync(jwt: t.NewJwt(), cancellationToken: ct);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.OK, second.Status);
    }

    [Fact]
    public async Task Send_TopicOutsideTheKeysTopics_IsTopicDisallowed()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(
            key: new ApnsKeyRequest { TeamId = ApnsTestContext.TeamId, Topics = [ApnsTestContext.Topic] }, cancellationToken: ct);

        var allowed = await t.SendAsync(cancellationToken: ct);
        var voip = await t.SendAsync(topic: ApnsTestContext.Topic + ".voip", configure: r => r.Headers.Add("apns-push-type", "voip"), cancellationToken: ct);
        var other = await t.SendAsync(topic: "com.other.app", cancellationToken: ct);

        Assert.Equal(HttpStatusCode.OK, allowed.Status);
        Assert.Equal(HttpStatusCode.OK, voip.Status);
        Assert.Equal((HttpStatusCode.BadRequest, ApnsReasons.TopicDisallowed), (other.Status, other.Reason));
    }

    [Fact]
    public async Task Send_WithRegisteredClientCertificate_IsAcceptedAndTopicDefaultsToBundleId()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        var registered = t.State.AddApnsCertificate(new ApnsCertificateRequest { BundleId = "com.example.certapp" });
        using var certificate = X509CertificateLoader.LoadPkcs12(Convert.FromBase64String(registered.Pkcs12Base64!), registered.Password);
        using var client = t.NewClient(certificate);

        var noTopic = await t.SendAsync(noAuth: true, topic: null, client: client, cancellationToken: ct);
        var voip = await t.SendAsync(noAuth: true, topic: "com.example.certapp.voip", client: client,
            configure: r => r.Headers.Add("apns-push-type", "voip"), cancellationToken: ct);
        var complication = await t.SendAsync(noAuth: true, topic: "com.example.certapp.complication", client: client, cancellationToken: ct);
        var otherTopic = await t.SendAsync(noAuth: true, topic: "com.example.other", client: client, cancellationToken: ct);

        Assert.Equal(HttpStatusCode.OK, noTopic.Status);
        Assert.Equal(HttpStatusCode.OK, voip.Status);
        Assert.Equal(HttpStatusCode.OK, complication.Status);
        Assert.Equal((HttpStatusCode.BadRequest, ApnsReasons.TopicDisallowed), (otherTopic.Status, otherTopic.Reason));
        Assert.Equal(registered.Thumbprint, certificate.Thumbprint);
        Assert.Contains("Apple Push Services: com.example.certapp", certificate.Subject, StringComparison.Ordinal);
        Assert.Contains("com.example.certapp", t.State.GetReceived("apns").Items[0].Topic, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_WithUnregisteredClientCertificate_IsBadCertificate()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        using var unknown = SelfSignedClientCertificate("com.example.unknown");
        using var client = t.NewClient(unknown);

        var reply = await t.SendAsync(noAuth: true, client: client, cancellationToken: ct);

        Assert.Equal((HttpStatusCode.Forbidden, ApnsReasons.BadCertificate), (reply.Status, reply.Reason));
    }

    [Fact]
    public async Task Send_CertificateOfTheOtherEnvironment_IsBadCertificateEnvironment()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        var registered = t.State.AddApnsCertificate(new ApnsCertificateRequest { BundleId = ApnsTestContext.Topic, Environment = ApnsEnvironment.Production });
        using var certificate = X509CertificateLoader.LoadPkcs12(Convert.FromBase64String(registered.Pkcs12Base64!), registered.Password);
        using var client = t.NewClient(certificate);

        var production = await t.SendAsync(noAuth: true, client: client, cancellationToken: ct);
        var sandbox = await t.SendAsync(noAuth: true, sandbox: true, client: client, cancellationToken: ct);

        Assert.Equal(HttpStatusCode.OK, production.Status);
        Assert.Equal((HttpStatusCode.Forbidden, ApnsReasons.BadCertificateEnvironment), (sandbox.Status, sandbox.Reason));
    }

    [Fact]
    public async Task Send_CertificateRegisteredFromPem_IsRecognisedByThumbprint()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        using var own = SelfSignedClientCertificate("com.example.pem");
        var registered = t.State.AddApnsCertificate(new ApnsCertificateRequest { BundleId = "com.example.pem", CertificatePem = own.ExportCertificatePem() });
        using var client = t.NewClient(own);

        var reply = await t.SendAsync(noAuth: true, topic: null, client: client, cancellationToken: ct);

        Assert.Equal(own.Thumbprint, registered.Thumbprint);
        Assert.Null(registered.Pkcs12Base64);
        Assert.Equal(HttpStatusCode.OK, reply.Status);
    }

    [Fact]
    public async Task Send_BearerAndCertificate_UsesTheToken()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        using var unknown = SelfSignedClientCertificate("com.example.unknown");
        using var client = t.NewClient(unknown);

        var reply = await t.SendAsync(client: client, cancellationToken: ct);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
    }

    private static X509Certificate2 SelfSignedClientCertificate(string bundleId)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN=Apple Push Services: {bundleId}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }
}
