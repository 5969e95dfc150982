using System.Security.Cryptography;
using System.Text;

namespace PushGateway.Sns;

/// <summary>
/// AWS Signature Version 4, the computation both sides make: canonical request, string to sign, signing key and
/// signature. Pure functions over what the request carried, so that AWS's published test vectors check them.
/// </summary>
internal static class SigV4
{
    public const string Algorithm = "AWS4-HMAC-SHA256";
    public const string Terminator = "aws4_request";

    /// <summary>
    /// <c>METHOD\nURI\nQUERY\nHEADERS\n\nSIGNED\nPAYLOADHASH</c>. <paramref name="headerValue"/> gives all values of
    /// a header (by lower-case name) as received; they are trimmed, inner runs of spaces collapsed, joined with commas.
    /// </summary>
    public static string CanonicalRequest(
        string method, string path, string? rawQuery, IReadOnlyList<string> signedHeaders, Func<string, IEnumerable<string>> headerValue, string payloadHash)
    {
        var builder = new StringBuilder();
        builder.Append(method).Append('\n');
        builder.Append(CanonicalUri(path)).Append('\n');
        builder.Append(CanonicalQuery(rawQuery)).Append('\n');
        foreach (var name in signedHeaders)
        {
            builder.Append(name).Append(':').Append(string.Join(',', headerValue(name).Select(CanonicalHeaderValue))).Append('\n');
        }

        builder.Append('\n');
        builder.Append(string.Join(';', signedHeaders)).Append('\n');
        builder.Append(payloadHash);
        return builder.ToString();
    }

    public static string StringToSign(string amzDate, string scope, string canonicalRequest) =>
        $"{Algorithm}\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";

    public static byte[] SigningKey(string secret, string date, string region, string service)
    {
        var key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secret), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service));
        return HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(Terminator));
    }

    public static string Signature(byte[] signingKey, string stringToSign) =>
        Hex(HMACSHA256.HashData(signingKey, Encoding.UTF8.GetBytes(stringToSign)));

    public static string PayloadHash(ReadOnlySpan<byte> body) => Hex(SHA256.HashData(body));

    /// <summary>
    /// The path as the client signed it (services other than S3): dot segments removed, then each segment
    /// URI-encoded from its decoded form, so <c>/a b</c> and <c>/a%20b</c> both become <c>/a%20b</c>.
    /// </summary>
    public static string CanonicalUri(string path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "/";
        }

        var segments = new List<string>();
        var parts = path.Split('/');
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (part == "." || (part.Length == 0 && i > 0 && i < parts.Length - 1))
            {
                continue;
            }

            if (part == "..")
            {
                if (segments.Count > 1)
                {
                    segments.RemoveAt(segments.Count - 1);
                }

                continue;
            }

            segments.Add(UriEncode(Uri.UnescapeDataString(part)));
        }

        var result = string.Join('/', segments);
        if (!result.StartsWith('/'))
        {
            result = "/" + result;
        }

        // A trailing slash (or a trailing dot segment) keeps the path ending in '/'.
        if ((path.EndsWith('/') || path.EndsWith("/.", StringComparison.Ordinal) || path.EndsWith("/..", StringComparison.Ordinal)) && !result.EndsWith('/'))
        {
            result += "/";
        }

        return result;
    }

    /// <summary>Parameters decoded, re-encoded with RFC 3986 rules, sorted by name then value, <c>name=value</c> joined by '&amp;'.</summary>
    public static string CanonicalQuery(string? rawQuery)
    {
        if (string.IsNullOrEmpty(rawQuery))
        {
            return "";
        }

        var query = rawQuery.StartsWith('?') ? rawQuery[1..] : rawQuery;
        var pairs = new List<(string Name, string Value)>();
        foreach (var part in query.Split('&'))
        {
            if (part.Length == 0)
            {
                continue;
            }

            var equals = part.IndexOf('=');
            var name = equals < 0 ? part : part[..equals];
            var value = equals < 0 ? "" : part[(equals + 1)..];
            pairs.Add((UriEncode(Uri.UnescapeDataString(name)), UriEncode(Uri.UnescapeDataString(value))));
        }

        pairs.Sort((a, b) =>
        {
            var byName = string.CompareOrdinal(a.Name, b.Name);
            return byName != 0 ? byName : string.CompareOrdinal(a.Value, b.Value);
        });
        return string.Join('&', pairs.Select(p => p.Name + "=" + p.Value));
    }

    /// <summary>RFC 3986: unreserved characters as they are, every other UTF-8 byte as %XX (upper-case hex).</summary>
    public static string UriEncode(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    private static string CanonicalHeaderValue(string value)
    {
        var builder = new StringBuilder(value.Length);
        var space = false;
        foreach (var c in value.Trim())
        {
            if (c == ' ')
            {
                if (!space)
                {
                    builder.Append(c);
                }

                space = true;
            }
            else
            {
                builder.Append(c);
                space = false;
            }
        }

        return builder.ToString();
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
