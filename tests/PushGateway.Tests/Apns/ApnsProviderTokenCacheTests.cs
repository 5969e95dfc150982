using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using PushGateway.Apns;

namespace PushGateway.Tests.Apns;

public sealed class ApnsProviderTokenCacheTests
{
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void GetToken_Always_IsAnEs256JwtWithKidIssIatVerifiableWithThePublicKey()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var time = new FakeTimeProvider(Start);
        var cache = new ApnsProviderTokenCache(time);

        var jwt = cache.GetToken(new ApnsTokenCredentials("TEAM123456", "KEY1234567", key.ExportPkcs8PrivateKeyPem()));

        var parts = jwt.Split('.');
        Assert.Equal(3, parts.Length);
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]));
        Assert.Equal("ES256", header.RootElement.GetProperty("alg").GetString());
        Assert.Equal("KEY1234567", header.RootElement.GetProperty("kid").GetString());
        Assert.Equal(2, header.RootElement.EnumerateObject().Count());
        using var claims = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
        Assert.Equal("TEAM123456", claims.RootElement.GetProperty("iss").GetString());
        Assert.Equal(Start.ToUnixTimeSeconds(), claims.RootElement.GetProperty("iat").GetInt64());
        Assert.Equal(2, claims.RootElement.EnumerateObject().Count());

        var signature = Base64Url.DecodeFromChars(parts[2]);
        Assert.Equal(64, signature.Length); // IEEE P1363 r||s, not DER
        using var publicKey = ECDsa.Create(key.ExportParameters(includePrivateParameters: false));
        Assert.True(publicKey.VerifyData(
            Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]),
            signature,
            HashAlgorithmName.SHA256,
            DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Fact]
    public void GetToken_BeforeFiftyMinutes_ReturnsTheSameToken()
    {
        var time = new FakeTimeProvider(Start);
        var cache = new ApnsProviderTokenCache(time);
        var credentials = NewCredentials();

        var first = cache.GetToken(credentials);
        time.Advance(TimeSpan.FromMinutes(49) + TimeSpan.FromSeconds(59));

        Assert.Same(first, cache.GetToken(credentials));
    }

    [Fact]
    public void GetToken_AfterFiftyMinutes_ReturnsANewTokenWithTheNewIat()
    {
        var time = new FakeTimeProvider(Start);
        var cache = new ApnsProviderTokenCache(time);
        var credentials = NewCredentials();

        var first = cache.GetToken(credentials);
        time.Advance(TimeSpan.FromMinutes(50));
        var second = cache.GetToken(credentials);

        Assert.NotEqual(first, second);
        Assert.Equal(Start.AddMinutes(50).ToUnixTimeSeconds(), Iat(second));
        time.Advance(TimeSpan.FromMinutes(19));
        Assert.Same(second, cache.GetToken(credentials));
    }

    [Fact]
    public void GetToken_TwoCredentialsWithTheSameKey_ShareOneToken()
    {
        var time = new FakeTimeProvider(Start);
        var cache = new ApnsProviderTokenCache(time);
        var credentials = NewCredentials();

        var first = cache.GetToken(credentials);
        var second = cache.GetToken(credentials with { });

        Assert.Same(first, second);
    }

    [Fact]
    public void Invalidate_CurrentToken_RenewsAtOnceEvenWithinTwentyMinutes()
    {
        var time = new FakeTimeProvider(Start);
        var cache = new ApnsProviderTokenCache(time);
        var credentials = NewCredentials();
        var first = cache.GetToken(credentials);
        time.Advance(TimeSpan.FromMinutes(1));

        Assert.True(cache.Invalidate(credentials, first));
        var second = cache.GetToken(credentials);

        Assert.NotEqual(first, second);
        Assert.False(cache.Invalidate(credentials, first)); // the stale one again: nothing changes
        Assert.Same(second, cache.GetToken(credentials));
    }

    [Fact]
    public void GetToken_KeyThatIsNotPem_ThrowsArgumentExceptionWithoutTheKeyText()
    {
        var cache = new ApnsProviderTokenCache(TimeProvider.System);

        var e = Assert.Throws<ArgumentException>(() => cache.GetToken(new ApnsTokenCredentials("T", "K", "secret-not-a-key")));

        Assert.DoesNotContain("secret-not-a-key", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetToken_P384Key_ThrowsArgumentException()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var cache = new ApnsProviderTokenCache(TimeProvider.System);

        Assert.Throws<ArgumentException>(() => cache.GetToken(new ApnsTokenCredentials("T", "K", key.ExportPkcs8PrivateKeyPem())));
    }

    [Fact]
    public void ToString_Credentials_DoesNotPrintThePrivateKey()
    {
        var credentials = NewCredentials();

        Assert.DoesNotContain("PRIVATE KEY", credentials.ToString(), StringComparison.Ordinal);
    }

    internal static ApnsTokenCredentials NewCredentials()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new ApnsTokenCredentials("TEAM123456", "KEY1234567", key.ExportPkcs8PrivateKeyPem());
    }

    internal static long Iat(string jwt)
    {
        using var claims = JsonDocument.Parse(Base64Url.DecodeFromChars(jwt.Split('.')[1]));
        return claims.RootElement.GetProperty("iat").GetInt64();
    }
}
