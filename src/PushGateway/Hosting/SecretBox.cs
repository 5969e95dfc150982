using System.Security.Cryptography;

namespace PushGateway.Hosting;

/// <summary>
/// AES-256-GCM for secrets at rest (provider credentials, webhook secrets). Layout of the current format:
/// version 2 (1) | key id (4) | nonce (12) | tag (16) | ciphertext. The key id says which configured key sealed a
/// value, so a key can be rotated (<c>PushGateway__PreviousEncryptionKeys</c> still opens old values while
/// <see cref="SecretReencryption"/> seals them again under the current key) and a value sealed under a key that is no
/// longer configured is recognised without trial decryption. The legacy format (version 1, no key id) is still opened:
/// the current key is tried first, then the previous ones. The associated data binds a ciphertext to its row, so it
/// cannot be copied to another one.
/// </summary>
internal sealed class SecretBox
{
    private const byte LegacyVersion = 1;
    private const byte Version = 2;
    internal const int KeyIdSize = 4;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int HeaderSize = 1 + KeyIdSize;
    private readonly byte[] _key;
    private readonly byte[] _keyId;
    private readonly (byte[] Id, byte[] Key)[] _keys;

    public SecretBox(byte[] key, params IReadOnlyList<byte[]> previousKeys)
    {
        if (key.Length != 32 || previousKeys.Any(k => k.Length != 32))
        {
            throw new ArgumentException("An encryption key must be 32 bytes (base64 of 32 random bytes).", nameof(key));
        }

        _key = key;
        _keyId = KeyId(key);
        _keys = [(_keyId, key), .. previousKeys.Where(k => !k.AsSpan().SequenceEqual(key)).Select(k => (KeyId(k), k))];
    }

    /// <summary>The current key's id (what <see cref="Seal"/> writes after the version byte).</summary>
    public ReadOnlySpan<byte> CurrentKeyId => _keyId;

    /// <summary>The first bytes every value sealed under the current key starts with (version and key id).</summary>
    public byte[] CurrentPrefix => [Version, .. _keyId];

    /// <summary>
    /// A short public name for a key: the first 4 bytes of SHA-256 over a fixed label and the key. It identifies the
    /// key among the configured ones and reveals nothing usable about it.
    /// </summary>
    public static byte[] KeyId(ReadOnlySpan<byte> key)
    {
        var label = "PushGateway.SecretBox.KeyId.v1\0"u8;
        var input = new byte[label.Length + key.Length];
        label.CopyTo(input);
        key.CopyTo(input.AsSpan(label.Length));
        return SHA256.HashData(input)[..KeyIdSize];
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

    /// <summary>Parses a comma-separated list of base64 keys; <paramref name="error"/> names the bad entry by position.</summary>
    public static bool TryParseKeys(string? commaSeparated, out List<byte[]> keys, out string? error)
    {
        keys = [];
        error = null;
        if (string.IsNullOrWhiteSpace(commaSeparated))
        {
            return true;
        }

        var parts = commaSeparated.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < parts.Length; i++)
        {
            if (!TryParseKey(parts[i], out var key))
            {
                error = $"entry {i + 1} of {parts.Length} is not base64 of 32 bytes";
                return false;
            }

            keys.Add(key);
        }

        return true;
    }

    /// <summary>True if the value is in the current format under the current key (nothing to re-encrypt).</summary>
    public bool IsCurrent(ReadOnlySpan<byte> sealedData) =>
        sealedData.Length >= HeaderSize && sealedData[0] == Version && sealedData.Slice(1, KeyIdSize).SequenceEqual(_keyId);

    /// <summary>True if some configured key can open the value (without decrypting when it carries a key id).</summary>
    public bool HasKeyFor(ReadOnlySpan<byte> sealedData, string associatedData)
    {
        if (sealedData.Length >= HeaderSize && sealedData[0] == Version)
        {
            return FindKey(sealedData.Slice(1, KeyIdSize)) is not null;
        }

        try
        {
            Open(sealedData, associatedData);
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    public byte[] Seal(ReadOnlySpan<byte> plaintext, string associatedData)
    {
        var output = new byte[HeaderSize + NonceSize + TagSize + plaintext.Length];
        output[0] = Version;
        _keyId.CopyTo(output.AsSpan(1));
        var nonce = output.AsSpan(HeaderSize, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(HeaderSize + NonceSize + TagSize), output.AsSpan(HeaderSize + NonceSize, TagSize),
            System.Text.Encoding.UTF8.GetBytes(associatedData));
        return output;
    }

    /// <summary>
    /// Opens a value sealed by this or an earlier key. Throws <see cref="SecretUndecryptableException"/> when no
    /// configured key opens it (a configuration problem, not a property of the row).
    /// </summary>
    public byte[] Open(ReadOnlySpan<byte> sealedData, string associatedData)
    {
        var ad = System.Text.Encoding.UTF8.GetBytes(associatedData);
        if (sealedData.Length >= HeaderSize + NonceSize + TagSize && sealedData[0] == Version)
        {
            var key = FindKey(sealedData.Slice(1, KeyIdSize))
                ?? throw new SecretUndecryptableException($"The secret was encrypted under key id {Convert.ToHexStringLower(sealedData.Slice(1, KeyIdSize))}, which is not configured.");
            return Decrypt(key, sealedData[HeaderSize..], ad)
                ?? throw new SecretUndecryptableException("The secret does not open under the key its key id names (corrupted or moved to another row).");
        }

        if (sealedData.Length >= 1 + NonceSize + TagSize && sealedData[0] == LegacyVersion)
        {
            foreach (var (_, key) in _keys)
            {
                if (Decrypt(key, sealedData[1..], ad) is { } plaintext)
                {
                    return plaintext;
                }
            }

            throw new SecretUndecryptableException("The secret (legacy format, no key id) does not open under any configured key.");
        }

        throw new SecretUndecryptableException("Unknown secret format.");
    }

    public byte[] SealString(string plaintext, string associatedData) =>
        Seal(System.Text.Encoding.UTF8.GetBytes(plaintext), associatedData);

    public string OpenString(ReadOnlySpan<byte> sealedData, string associatedData) =>
        System.Text.Encoding.UTF8.GetString(Open(sealedData, associatedData));

    private byte[]? FindKey(ReadOnlySpan<byte> keyId)
    {
        foreach (var (id, key) in _keys)
        {
            if (keyId.SequenceEqual(id))
            {
                return key;
            }
        }

        return null;
    }

    /// <summary>nonce | tag | ciphertext under one key; null when the tag does not verify.</summary>
    private static byte[]? Decrypt(byte[] key, ReadOnlySpan<byte> body, byte[] associatedData)
    {
        var plaintext = new byte[body.Length - NonceSize - TagSize];
        using var aes = new AesGcm(key, TagSize);
        try
        {
            aes.Decrypt(body[..NonceSize], body[(NonceSize + TagSize)..], body.Slice(NonceSize, TagSize), plaintext, associatedData);
            return plaintext;
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
    }
}
