using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace PushGateway.Sns;

/// <summary>A request whose signature checked out: who signed it and the region it was signed for (the ARNs' region).</summary>
internal sealed record SignedCaller(SnsCaller Caller, string Region);

/// <summary>What the verifier needs of a request, taken verbatim from the wire.</summary>
internal sealed record SignedRequest(
    string Method,
    string Path,
    string? RawQuery,
    Func<string, IReadOnlyList<string>> Header,
    byte[] Body);

/// <summary>
/// Server-side SigV4 for the SNS facade (Authorization header form). Checks, in order: the header is there and
/// well-formed; the scope is <c>date/region/sns/aws4_request</c> with the date of <c>X-Amz-Date</c>; the access key is
/// known and active; the payload hash (and <c>X-Amz-Content-SHA256</c> when sent) matches the body; the recomputed
/// signature matches in constant time; and only then the clock: more than <see cref="MaxSkew"/> away is RequestExpired.
/// </summary>
internal static class SigV4Verifier
{
    public const string Service = "sns";
    public static readonly TimeSpan MaxSkew = TimeSpan.FromMinutes(15);

    private const string SignatureMismatch =
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

    public static async Task<SignedCaller> VerifyAsync(
        SignedRequest request, DateTimeOffset now, Func<string, Task<SnsCaller?>> findKey)
    {
        var authorization = string.Join(",", request.Header("authorization"));
        if (authorization.Length == 0)
        {
            if (request.RawQuery is { } q && q.Contains("X-Amz-Signature=", StringComparison.OrdinalIgnoreCase))
            {
                throw new SnsException(400, "IncompleteSignature", "Query-string (presigned) authentication is not supported; sign requests with the Authorization header.");
            }

            throw new SnsException(403, "MissingAuthenticationToken", "Request is missing Authentication Token");
        }

        var header = ParseAuthorization(authorization);
        var scope = header.Credential.Split('/');
        if (scope.Length != 5 || scope[0].Length == 0)
        {
            throw new SnsException(400, "IncompleteSignature",
                $"Credential should be scoped to a valid region, date, service and terminator: '{header.Credential}' is not <key>/<yyyyMMdd>/<region>/sns/aws4_request.");
        }

        var (accessKeyId, date, region, service, terminator) = (scope[0], scope[1], scope[2], scope[3], scope[4]);
        if (terminator != SigV4.Terminator)
        {
            throw new SnsException(403, "SignatureDoesNotMatch", $"Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'.");
        }

        if (service != Service)
        {
            throw new SnsException(403, "SignatureDoesNotMatch", $"Credential should be scoped to correct service: '{Service}'.");
        }

        if (region.Length == 0 || region.Length > 64 || !region.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            throw new SnsException(403, "SignatureDoesNotMatch", "Credential should be scoped to a valid region.");
        }

        var amzDate = request.Header("x-amz-date").FirstOrDefault();
        DateTimeOffset signedAt;
        if (amzDate is not null)
        {
            if (!DateTimeOffset.TryParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out signedAt))
            {
                throw new SnsException(400, "IncompleteSignature", $"X-Amz-Date must be in the ISO 8601 basic format yyyyMMddTHHmmssZ, not '{amzDate}'.");
            }
        }
        else if (request.Header("date").FirstOrDefault() is { } httpDate
                 && DateTimeOffset.TryParseExact(httpDate, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out signedAt))
        {
            amzDate = signedAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        }
        else
        {
            throw new SnsException(400, "IncompleteSignature", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
        }

        if (date != amzDate[..8])
        {
            throw new SnsException(403, "SignatureDoesNotMatch",
                $"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{date}' != '{amzDate[..8]}', from '{amzDate}'.");
        }

        if (!header.SignedHeaders.Contains("host"))
        {
            throw new SnsException(403, "SignatureDoesNotMatch", "'Host' must be a signed header.");
        }

        if (request.Header("x-amz-security-token").Count > 0)
        {
            throw new SnsException(403, "InvalidClientTokenId",
                "The security token included in the request is invalid. PushGateway issues no session tokens: sign with an access key pair from /v1/projects/{projectId}/sns-credentials.");
        }

        var caller = await findKey(accessKeyId)
            ?? throw new SnsException(403, "InvalidClientTokenId", "The security token included in the request is invalid.");

        var payloadHash = SigV4.PayloadHash(request.Body);
        if (request.Header("x-amz-content-sha256").FirstOrDefault() is { } claimed
            && !string.Equals(claimed, payloadHash, StringComparison.OrdinalIgnoreCase))
        {
            // UNSIGNED-PAYLOAD and streaming modes are S3's; an SNS body is always signed.
            throw new SnsException(403, "SignatureDoesNotMatch", "The provided 'x-amz-content-sha256' header does not match what was computed.");
        }

        var canonical = SigV4.CanonicalRequest(request.Method, request.Path, request.RawQuery, header.SignedHeaders, request.Header, payloadHash);
        var expected = SigV4.Signature(SigV4.SigningKey(caller.Secret, date, region, service), SigV4.StringToSign(amzDate, header.Credential[(accessKeyId.Length + 1)..], canonical));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(header.Signature.ToLowerInvariant())))
        {
            throw new SnsException(403, "SignatureDoesNotMatch", SignatureMismatch);
        }

        if ((signedAt - now).Duration() > MaxSkew)
        {
            throw new SnsException(400, "RequestExpired",
                $"Request has expired: the signature date {amzDate} is more than 15 minutes away from the server time {now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}.");
        }

        return new SignedCaller(caller, region);
    }

    internal sealed record AuthorizationHeader(string Credential, IReadOnlyList<string> SignedHeaders, string Signature);

    internal static AuthorizationHeader ParseAuthorization(string authorization)
    {
        var space = authorization.IndexOf(' ');
        var algorithm = space < 0 ? authorization : authorization[..space];
        if (algorithm != SigV4.Algorithm)
        {
            throw new SnsException(400, "IncompleteSignature", $"Unsupported AWS 'algorithm': '{algorithm}'; only {SigV4.Algorithm} (Signature Version 4) is accepted.");
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in authorization[(space + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=');
            if (equals > 0)
            {
                fields[part[..equals].Trim()] = part[(equals + 1)..].Trim();
            }
        }

        var missing = new[] { "Credential", "SignedHeaders", "Signature" }.Where(f => !fields.ContainsKey(f) || fields[f].Length == 0).ToList();
        if (missing.Count > 0)
        {
            throw new SnsException(400, "IncompleteSignature",
                string.Join(" ", missing.Select(m => $"Authorization header requires '{m}' parameter.")) + $" Authorization={authorization.Split(' ')[0]}");
        }

        var signature = fields["Signature"];
        if (signature.Length != 64 || !signature.All(char.IsAsciiHexDigit))
        {
            throw new SnsException(400, "IncompleteSignature", "The Signature must be 64 hexadecimal characters.");
        }

        var signed = fields["SignedHeaders"].Split(';').ToList();
        if (signed.Any(h => h.Length == 0 || h != h.ToLowerInvariant()) || !signed.SequenceEqual(signed.Order(StringComparer.Ordinal)))
        {
            throw new SnsException(400, "IncompleteSignature", "SignedHeaders must be lower-case header names in order, separated by ';'.");
        }

        return new AuthorizationHeader(fields["Credential"], signed, signature);
    }
}
