using System.Security.Cryptography;

namespace PushGateway.Hosting;

/// <summary>
/// AES-256-GCM for secrets at rest (provider credentials, webhook secrets). Layout: version (1) | nonce (12) |
/// tag (16) | ciphertext. The associated data binds a ciphertext to its row, so it cannot be copied to another one.
/// </summary>
internal sealed class SecretBox
{
    private const byte Version = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    public SecretBox(byte[] key)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("The encryption key must be 32 bytes (base64 of 32 random bytes).", nameof(key));
        }

        _key = key;
    }

    public static bool TryParseKey(string? base64, out byte[] key)
    {
        key = [];
        if (string.IsNullOrWhiteSpace(base64))
        {
            return false;
        }

        try
        {
            key = Convert.FromBase64String(base64.Trim());
        }
        catch (FormatException)
        {
            return false;
        }

        return key.Length == 32;
    }

    public byte[] Seal(ReadOnlySpan<byte> plaintext, string associatedData)
    {
        var output = new byte[1 + NonceSize + TagSize + plaintext.Length];
        output[0] = Version;
        var nonce = output.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(1 + NonceSize + TagSize), output.AsSpan(1 + NonceSize, TagSize),
            System.Text.Encoding.UTF8.GetBytes(associatedData));
        return output;
    }

    public byte[] Open(ReadOnlySpan<byte> sealedData, string associatedData)
    {
        if (sealedData.Length < 1 + NonceSize + TagSize || sealedData[0] != Version)
        {
            throw new CryptographicException("Unknown secret format.");
        }

        var plaintext = new byte[sealedData.Length - 1 - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(sealedData.Slice(1, NonceSize), sealedData[(1 + NonceSize + TagSize)..], sealedData.Slice(1 + NonceSize, TagSize),
            plaintext, System.Text.Encoding.UTF8.GetBytes(associatedData));
        return plaintext;
    }

    public byte[] SealString(string plaintext, string associatedData) =>
        Seal(System.Text.Encoding.UTF8.GetBytes(plaintext), associatedData);

    public string OpenString(ReadOnlySpan<byte> sealedData, string associatedData) =>
        System.Text.Encoding.UTF8.GetString(Open(sealedData, associatedData));
}
