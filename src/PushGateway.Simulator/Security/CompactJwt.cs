using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace PushGateway.Simulator.Security;

/// <summary>A parsed compact JWS (header.payload.signature); nothing is trusted until a Verify method says so.</summary>
internal sealed class CompactJwt
{
    private readonly string _jwt;
    private readonly int _signedLength;

    private CompactJwt(string jwt, int signedLength, JsonElement header, JsonElement payload, byte[] signature)
    {
        _jwt = jwt;
        _signedLength = signedLength;
        Header = header;
        Payload = payload;
        Signature = signature;
    }

    public JsonElement Header { get; }
    public JsonElement Payload { get; }
    public byte[] Signature { get; }

    public string? Algorithm => GetString(Header, "alg");
    public string? KeyId => GetString(Header, "kid");

    public static CompactJwt? TryParse(string jwt)
    {
        var first = jwt.IndexOf('.');
        if (first <= 0)
        {
            return null;
        }

        var second = jwt.IndexOf('.', first + 1);
        if (second <= first + 1 || jwt.IndexOf('.', second + 1) >= 0 || second == jwt.Length - 1)
        {
            return null;
        }

        try
        {
            var header = ParseObject(jwt.AsSpan(0, first));
            var payload = ParseObject(jwt.AsSpan(first + 1, second - first - 1));
            var signature = Base64Url.DecodeFromChars(jwt.AsSpan(second + 1));
            return header is null || payload is null ? null : new CompactJwt(jwt, second, header.Value, payload.Value, signature);
        }
        catch (FormatException)
        {
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>ES256: the signature is the 64-byte IEEE P1363 r||s over the ASCII of header.payload.</summary>
    public bool VerifyEs256(ECDsa key)
    {
        if (Signature.Length != 64)
        {
            return false;
        }

        var data = Encoding.ASCII.GetBytes(_jwt, 0, _signedLength);
        return key.VerifyData(data, Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    public bool VerifyRs256(RSA key)
    {
        var data = Encoding.ASCII.GetBytes(_jwt, 0, _signedLength);
        return key.VerifyData(data, Signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    }

    public string? GetClaimString(string name) => GetString(Payload, name);

    /// <summary>A NumericDate claim (seconds since the epoch), integer or fractional.</summary>
    public long? GetClaimSeconds(string name)
    {
        if (!Payload.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Number)
        {
            return null;
        }

        if (value.TryGetInt64(out var whole))
        {
            return whole;
        }

        return value.TryGetDouble(out var fractional) && double.IsFinite(fractional) ? (long)fractional : null;
    }

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static JsonElement? ParseObject(ReadOnlySpan<char> base64Url)
    {
        var bytes = Base64Url.DecodeFromChars(base64Url);
        using var document = JsonDocument.Parse(bytes);
        return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
    }
}
