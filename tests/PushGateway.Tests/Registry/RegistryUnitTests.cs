using System.Security.Cryptography;
using PushGateway.Endpoints;
using PushGateway.Hosting;

namespace PushGateway.Tests.Registry;

public sealed class SecretBoxTests
{
    private readonly SecretBox _box = new(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void SealOpen_RoundTrips_AndCiphertextHidesPlaintext()
    {
        var sealedData = _box.SealString("-----BEGIN PRIVATE KEY----- secret", "application:1");
        Assert.DoesNotContain("PRIVATE", System.Text.Encoding.Latin1.GetString(sealedData), StringComparison.Ordinal);
        Assert.Equal("-----BEGIN PRIVATE KEY----- secret", _box.OpenString(sealedData, "application:1"));
    }

    [Fact]
    public void Open_WithOtherAssociatedData_Fails()
    {
        var sealedData = _box.SealString("x", "application:1");
        Assert.ThrowsAny<CryptographicException>(() => _box.OpenString(sealedData, "application:2"));
    }

    [Fact]
    public void Open_Tampered_Fails()
    {
        var sealedData = _box.SealString("payload", "a");
        sealedData[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => _box.OpenString(sealedData, "a"));
    }

    [Fact]
    public void Seal_UsesFreshNonces()
    {
        Assert.NotEqual(_box.SealString("same", "a"), _box.SealString("same", "a"));
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("not base64!", false)]
    [InlineData("AAAA", false)]
    public void TryParseKey_RejectsBadKeys(string? key, bool expected) => Assert.Equal(expected, SecretBox.TryParseKey(key, out _));

    [Fact]
    public void TryParseKey_Accepts32Bytes() => Assert.True(SecretBox.TryParseKey(Convert.ToBase64String(new byte[32]), out var key) && key.Length == 32);
}

public sealed class TokensTests
{
    [Theory]
    [InlineData("apns", "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789", true, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789")]
    [InlineData("apns", "abcdef0123456789abcdef0123456789abcdef0123456789abcdef012345678", false, "")]
    [InlineData("apns", "zz", false, "")]
    [InlineData("fcm", "dGVzdA:APA91bH-_x", true, "dGVzdA:APA91bH-_x")]
    [InlineData("fcm", "a b", false, "")]
    [InlineData("fcm", "", false, "")]
    public void TryNormalize_AppliesPlatformRules(string platform, string token, bool ok, string normalized)
    {
        Assert.Equal(ok, Tokens.TryNormalize(platform, token, out var result, out var error));
        Assert.Equal(normalized, result);
        Assert.Equal(ok, error.Length == 0);
    }

    [Fact]
    public void ApnsToken_LengthBounds()
    {
        Assert.True(Tokens.TryNormalize("apns", new string('a', 200), out _, out _));
        Assert.False(Tokens.TryNormalize("apns", new string('a', 202), out _, out _));
        Assert.True(Tokens.TryNormalize("fcm", new string('a', 4096), out _, out _));
        Assert.False(Tokens.TryNormalize("fcm", new string('a', 4097), out _, out _));
    }
}

public sealed class CursorAndValidationTests
{
    [Fact]
    public void Cursor_RoundTrips()
    {
        var id = Guid.CreateVersion7();
        Assert.True(Cursor.TryDecode(Cursor.Encode(id), out Guid? decoded));
        Assert.Equal(id, decoded);
    }

    [Theory]
    [InlineData("!!!")]
    [InlineData("AAAA")]
    public void Cursor_RejectsGarbage(string cursor) => Assert.False(Cursor.TryDecode(cursor, out Guid? _));

    [Theory]
    [InlineData("plain text", true)]
    [InlineData("tab\tand\nnewline", true)]
    [InlineData("emoji 🚀", true)]
    [InlineData("nul\0", false)]
    [InlineData("bell\a", false)]
    public void IsStorable_RefusesWhatPostgresCannotHold(string value, bool expected) => Assert.Equal(expected, Validation.IsStorable(value));

    [Fact]
    public void IsStorable_RefusesLoneSurrogates() => Assert.False(Validation.IsStorable("lone " + (char)0xD800 + " surrogate"));

    [Fact]
    public void Text_ChecksRequiredLengthAndContent()
    {
        var v = new Validation();
        Assert.False(v.Text("a", null, 10));
        Assert.False(v.Text("b", "   ", 10));
        Assert.False(v.Text("c", "12345678901", 10));
        Assert.True(v.Text("d", null, 10, required: false));
        Assert.True(v.Text("e", "ok", 10));
        Assert.False(v.IsValid);
    }

    [Fact]
    public void ClockTruncatesToMicroseconds()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(1234567));
        Assert.Equal(1234560, time.UtcNow().Ticks - new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).Ticks);
    }
}
