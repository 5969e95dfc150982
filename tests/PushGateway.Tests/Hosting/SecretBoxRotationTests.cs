using System.Security.Cryptography;
using PushGateway.Hosting;

namespace PushGateway.Tests.Hosting;

/// <summary>Key ids, previous keys and the legacy (version 1) format of <see cref="SecretBox"/>.</summary>
public sealed class SecretBoxRotationTests
{
    private readonly byte[] _keyA = RandomNumberGenerator.GetBytes(32);
    private readonly byte[] _keyB = RandomNumberGenerator.GetBytes(32);

    [Fact]
    public void Seal_WritesVersion2AndTheCurrentKeyId_AndRoundTrips()
    {
        var box = new SecretBox(_keyA);
        var sealedData = box.SealString("secret", "application:1");
        Assert.Equal(2, sealedData[0]);
        Assert.Equal(SecretBox.KeyId(_keyA), sealedData[1..5]);
        Assert.True(box.IsCurrent(sealedData));
        Assert.Equal("secret", box.OpenString(sealedData, "application:1"));
    }

    [Fact]
    public void PreviousKey_Decrypts_ButDoesNotEncrypt()
    {
        var old = new SecretBox(_keyA).SealString("secret", "a");
        var rotated = new SecretBox(_keyB, _keyA);
        Assert.Equal("secret", rotated.OpenString(old, "a"));
        Assert.False(rotated.IsCurrent(old));
        Assert.True(rotated.HasKeyFor(old, "a"));
        Assert.Equal(SecretBox.KeyId(_keyB), rotated.SealString("x", "a")[1..5]);
    }

    [Fact]
    public void LegacyFormat_DecryptsUnderCurrentOrPreviousKey()
    {
        var legacy = SealLegacy(_keyA, "legacy secret", "a");
        Assert.Equal("legacy secret", new SecretBox(_keyA).OpenString(legacy, "a"));
        Assert.Equal("legacy secret", new SecretBox(_keyB, _keyA).OpenString(legacy, "a"));
        Assert.False(new SecretBox(_keyA).IsCurrent(legacy));
    }

    [Fact]
    public void WrongKey_ThrowsSecretUndecryptable_ForBothFormats()
    {
        var box = new SecretBox(_keyB);
        var current = new SecretBox(_keyA).SealString("x", "a");
        Assert.Throws<SecretUndecryptableException>(() => box.OpenString(current, "a"));
        Assert.Throws<SecretUndecryptableException>(() => box.OpenString(SealLegacy(_keyA, "x", "a"), "a"));
        Assert.False(box.HasKeyFor(current, "a"));
        Assert.False(box.HasKeyFor(SealLegacy(_keyA, "x", "a"), "a"));
    }

    [Fact]
    public void KeyId_IsShort_Stable_AndNotPartOfTheKey()
    {
        var id = SecretBox.KeyId(_keyA);
        Assert.Equal(4, id.Length);
        Assert.Equal(id, SecretBox.KeyId(_keyA));
        Assert.NotEqual(id, SecretBox.KeyId(_keyB));
        // Neither a slice of the key nor its plain hash: the label separates it from other uses of SHA-256(key).
        for (var i = 0; i + id.Length <= _keyA.Length; i++)
        {
            Assert.NotEqual(id, _keyA[i..(i + id.Length)]);
        }

        Assert.NotEqual(id, SHA256.HashData(_keyA)[..4]);
        var sealedData = new SecretBox(_keyA).SealString("x", "a");
        Assert.Equal(-1, sealedData.AsSpan().IndexOf(_keyA.AsSpan(0, 8)));
    }

    [Theory]
    [InlineData(null, true, 0)]
    [InlineData("", true, 0)]
    [InlineData("AAAA", false, 0)]
    [InlineData("not base64!", false, 0)]
    public void TryParseKeys_ValidatesEachEntry(string? value, bool ok, int count)
    {
        Assert.Equal(ok, SecretBox.TryParseKeys(value, out var keys, out var error));
        Assert.Equal(count, keys.Count);
        Assert.Equal(ok, error is null);
    }

    [Fact]
    public void TryParseKeys_AcceptsACommaSeparatedList_AndNamesTheBadEntry()
    {
        var a = Convert.ToBase64String(_keyA);
        var b = Convert.ToBase64String(_keyB);
        Assert.True(SecretBox.TryParseKeys($"{a}, {b}", out var keys, out _));
        Assert.Equal(2, keys.Count);
        Assert.False(SecretBox.TryParseKeys($"{a},AAAA", out _, out var error));
        Assert.Contains("entry 2 of 2", error, StringComparison.Ordinal);
        Assert.DoesNotContain(a, error, StringComparison.Ordinal);
    }

    /// <summary>The format written before key ids: version 1 | nonce (12) | tag (16) | ciphertext.</summary>
    private static byte[] SealLegacy(byte[] key, string plaintext, string associatedData)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[1 + 12 + 16 + bytes.Length];
        output[0] = 1;
        RandomNumberGenerator.Fill(output.AsSpan(1, 12));
        using var aes = new AesGcm(key, 16);
        aes.Encrypt(output.AsSpan(1, 12), bytes, output.AsSpan(29), output.AsSpan(13, 16), System.Text.Encoding.UTF8.GetBytes(associatedData));
        return output;
    }
}
