using System.Globalization;
using System.Text;
using PushGateway.Sns;

namespace PushGateway.Tests.Sns;

/// <summary>The facade's verifier: what it refuses, and with which SNS error, for requests signed by <see cref="SigV4"/> (itself checked by the published vectors).</summary>
public sealed class SigV4VerifierTests
{
    private const string KeyId = "PGSNTESTTESTTESTTEST";
    private const string Secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNl";
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 18, 0, 0, TimeSpan.Zero);
    private static readonly SnsCaller Caller = new(Guid.Parse("0194c0c4-0000-7000-8000-000000000001"), KeyId, Secret);
    private const string Body = "Action=CreatePlatformEndpoint&Version=2010-03-31&Token=abc";

    private static Dictionary<string, List<string>> Sign(string body, DateTimeOffset at, string secret = Secret, string service = "sns", string? scopeDate = null, string region = "us-east-1")
    {
        var amzDate = at.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var date = scopeDate ?? amzDate[..8];
        var headers = new Dictionary<string, List<string>>
        {
            ["content-type"] = ["application/x-www-form-urlencoded; charset=utf-8"],
            ["host"] = ["127.0.0.1:8080"],
            ["x-amz-date"] = [amzDate],
        };
        var signed = headers.Keys.Order(StringComparer.Ordinal).ToList();
        var canonical = SigV4.CanonicalRequest("POST", "/sns", null, signed, h => headers[h], SigV4.PayloadHash(Encoding.UTF8.GetBytes(body)));
        var scope = $"{date}/{region}/{service}/aws4_request";
        var signature = SigV4.Signature(SigV4.SigningKey(secret, date, region, service), SigV4.StringToSign(amzDate, scope, canonical));
        headers["authorization"] = [$"AWS4-HMAC-SHA256 Credential={KeyId}/{scope}, SignedHeaders={string.Join(';', signed)}, Signature={signature}"];
        return headers;
    }

    private static Task<SignedCaller> VerifyAsync(Dictionary<string, List<string>> headers, string body, DateTimeOffset? now = null) =>
        SigV4Verifier.VerifyAsync(
            new SignedRequest("POST", "/sns", null, h => headers.TryGetValue(h, out var v) ? v : [], Encoding.UTF8.GetBytes(body)),
            now ?? Now,
            key => Task.FromResult(key == KeyId ? Caller : null));

    private static async Task<SnsException> RefusedAsync(Dictionary<string, List<string>> headers, string body, DateTimeOffset? now = null) =>
        await Assert.ThrowsAsync<SnsException>(() => VerifyAsync(headers, body, now));

    [Fact]
    public async Task AGoodSignature_GivesTheCallerAndTheRegion()
    {
        var signed = await VerifyAsync(Sign(Body, Now, region: "eu-central-1"), Body);
        Assert.Equal(Caller.ProjectId, signed.Caller.ProjectId);
        Assert.Equal("eu-central-1", signed.Region);
    }

    [Fact]
    public async Task NoAuthorization_IsMissingAuthenticationToken()
    {
        var error = await RefusedAsync(new Dictionary<string, List<string>> { ["host"] = ["x"] }, Body);
        Assert.Equal(("MissingAuthenticationToken", 403), (error.Code, error.Status));
    }

    [Fact]
    public async Task AWrongSecret_IsSignatureDoesNotMatch()
    {
        var error = await RefusedAsync(Sign(Body, Now, secret: "wrong"), Body);
        Assert.Equal(("SignatureDoesNotMatch", 403), (error.Code, error.Status));
    }

    [Fact]
    public async Task ABodyChangedAfterSigning_IsSignatureDoesNotMatch()
    {
        var error = await RefusedAsync(Sign(Body, Now), Body.Replace("Token=abc", "Token=abd", StringComparison.Ordinal));
        Assert.Equal(("SignatureDoesNotMatch", 403), (error.Code, error.Status));
    }

    [Fact]
    public async Task AContentHashHeaderThatIsNotTheBodys_IsRefused()
    {
        var headers = Sign(Body, Now);
        headers["x-amz-content-sha256"] = [new string('0', 64)];
        Assert.Equal("SignatureDoesNotMatch", (await RefusedAsync(headers, Body)).Code);
    }

    [Fact]
    public async Task AnUnknownKey_IsInvalidClientTokenId()
    {
        var headers = Sign(Body, Now);
        headers["authorization"] = [headers["authorization"][0].Replace(KeyId, "PGSNUNKNOWNUNKNOWNUN", StringComparison.Ordinal)];
        var error = await RefusedAsync(headers, Body);
        Assert.Equal(("InvalidClientTokenId", 403), (error.Code, error.Status));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(-16)]
    public async Task MoreThan15MinutesOfSkew_IsRequestExpired(int minutes)
    {
        var error = await RefusedAsync(Sign(Body, Now.AddMinutes(minutes)), Body);
        Assert.Equal(("RequestExpired", 400), (error.Code, error.Status));
        await VerifyAsync(Sign(Body, Now.AddMinutes(Math.Sign(minutes) * 14)), Body);
    }

    [Fact]
    public async Task AnotherService_OrAScopeDateThatIsNotTheRequests_IsRefused()
    {
        Assert.Contains("correct service: 'sns'", (await RefusedAsync(Sign(Body, Now, service: "sqs"), Body)).Message);
        Assert.Contains("Date in Credential scope", (await RefusedAsync(Sign(Body, Now, scopeDate: "20261201"), Body)).Message);
    }

    [Theory]
    [InlineData("AWS4-HMAC-SHA256 Credential=x/20261202/us-east-1/sns/aws4_request, SignedHeaders=host;x-amz-date")]
    [InlineData("AWS AKID:signature")]
    public async Task AMalformedHeader_IsIncompleteSignature(string authorization)
    {
        var headers = Sign(Body, Now);
        headers["authorization"] = [authorization];
        Assert.Equal(("IncompleteSignature", 400), ((await RefusedAsync(headers, Body)).Code, (await RefusedAsync(headers, Body)).Status));
    }
}
