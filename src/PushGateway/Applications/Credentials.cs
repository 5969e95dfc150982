using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PushGateway.Data;
using PushGateway.Hosting;

namespace PushGateway.Applications;

/// <summary>
/// Credentials as they arrive. One flat shape for the three types; <see cref="Credentials.Validate"/> checks that
/// exactly the fields of the given type are present and that keys and certificates really parse.
/// </summary>
internal sealed record CredentialsRequest(
    string Type,
    string? TeamId = null,
    string? KeyId = null,
    string? PrivateKey = null,
    string? BundleId = null,
    string? Certificate = null,
    string? Password = null,
    JsonElement? ServiceAccountJson = null);

/// <summary>
/// <paramref name="Info"/> is what responses show (never a secret); <paramref name="Secret"/> is what gets
/// encrypted at rest and what the delivery workers decrypt.
/// </summary>
internal sealed record ValidatedCredentials(string Type, JsonObject Info, JsonObject Secret);

internal static partial class Credentials
{
    private const int MaxPemLength = 8 * 1024;
    private const int MaxCertificateBase64Length = 64 * 1024;
    private const int MaxServiceAccountLength = 16 * 1024;

    // \A…\z, not ^…$: "$" also matches before a final "\n", which let "com.example.app\n" through into apns-topic
    // (a header: an LF there takes the HTTP/2 connection down) and "TEAM123456\n" into the provider token.
    [GeneratedRegex("\\A[A-Za-z0-9]{10}\\z")]
    private static partial Regex AppleId();

    /// <summary>Apple: letters, digits, hyphens and periods; the bundle id is the default apns-topic header.</summary>
    [GeneratedRegex("\\A[A-Za-z0-9][A-Za-z0-9.\\-]{0,154}\\z")]
    private static partial Regex BundleIdPattern();

    public static ValidatedCredentials? Validate(string platform, CredentialsRequest request, TimeProvider time, Validation v)
    {
        switch (request.Type)
        {
            case CredentialTypes.Token when platform == Platforms.Apns:
                return ValidateApnsToken(request, v);
            case CredentialTypes.Certificate when platform == Platforms.Apns:
                return ValidateApnsCertificate(request, time, v);
            case CredentialTypes.ServiceAccount when platform == Platforms.Fcm:
                return ValidateServiceAccount(request, v);
            case CredentialTypes.Token or CredentialTypes.Certificate or CredentialTypes.ServiceAccount:
                v.Add("credentials.type", platform == Platforms.Apns
                    ? "APNs applications take credentials of type \"token\" or \"certificate\"."
                    : "FCM applications take credentials of type \"serviceAccount\".");
                return null;
            default:
                v.Add("credentials.type", "Must be \"token\", \"certificate\" (APNs) or \"serviceAccount\" (FCM).");
                return null;
        }
    }

    private static ValidatedCredentials? ValidateApnsToken(CredentialsRequest r, Validation v)
    {
        Forbid(v, "certificate", r.Certificate, "password", r.Password);
        Forbid(v, "serviceAccountJson", r.ServiceAccountJson);
        if (r.TeamId is null || !AppleId().IsMatch(r.TeamId))
        {
            v.Add("credentials.teamId", "Required: the 10-character Apple Team ID.");
        }

        if (r.KeyId is null || !AppleId().IsMatch(r.KeyId))
        {
            v.Add("credentials.keyId", "Required: the 10-character Key ID of the .p8 key.");
        }

        CheckBundleId(r.BundleId, v);
        if (string.IsNullOrWhiteSpace(r.PrivateKey))
        {
            v.Add("credentials.privateKey", "Required: the contents of the .p8 file (-----BEGIN PRIVATE KEY-----…).");
        }
        else if (r.PrivateKey.Length > MaxPemLength || !IsP256PrivateKey(r.PrivateKey))
        {
            v.Add("credentials.privateKey", "Not an APNs signing key: expected a PEM PKCS#8 ECDSA P-256 private key (.p8).");
        }

        if (!v.IsValid)
        {
            return null;
        }

        return new ValidatedCredentials(CredentialTypes.Token,
            new JsonObject { ["type"] = CredentialTypes.Token, ["teamId"] = r.TeamId, ["keyId"] = r.KeyId, ["bundleId"] = r.BundleId },
            new JsonObject { ["teamId"] = r.TeamId, ["keyId"] = r.KeyId, ["privateKey"] = r.PrivateKey, ["bundleId"] = r.BundleId });
    }

    private static ValidatedCredentials? ValidateApnsCertificate(CredentialsRequest r, TimeProvider time, Validation v)
    {
        Forbid(v, "teamId", r.TeamId, "keyId", r.KeyId);
        Forbid(v, "privateKey", r.PrivateKey, "serviceAccountJson", r.ServiceAccountJson);
        if (r.BundleId is not null)
        {
            CheckBundleId(r.BundleId, v);
        }

        if (string.IsNullOrWhiteSpace(r.Certificate))
        {
            v.Add("credentials.certificate", "Required: the base64 of the PKCS#12 (.p12) file.");
            return null;
        }

        if (r.Certificate.Length > MaxCertificateBase64Length)
        {
            v.Add("credentials.certificate", $"At most {MaxCertificateBase64Length} characters.");
            return null;
        }

        byte[] pkcs12;
        try
        {
            pkcs12 = Convert.FromBase64String(r.Certificate);
        }
        catch (FormatException)
        {
            v.Add("credentials.certificate", "Not base64.");
            return null;
        }

        if (r.Password is { Length: > 1024 })
        {
            v.Add("credentials.password", "At most 1024 characters.");
            return null;
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12(pkcs12, r.Password, X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (CryptographicException)
        {
            v.Add("credentials.certificate", "Could not open the PKCS#12 file: it is not PKCS#12 or the password is wrong.");
            return null;
        }

        using (certificate)
        {
            if (!certificate.HasPrivateKey)
            {
                v.Add("credentials.certificate", "The PKCS#12 file has no private key; export the certificate together with its key.");
                return null;
            }

            var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
            if (notAfter <= time.GetUtcNow())
            {
                v.Add("credentials.certificate", $"The certificate expired on {notAfter:O}.");
                return null;
            }

            var bundleId = r.BundleId ?? BundleIdFromSubject(certificate);
            if (bundleId is null)
            {
                v.Add("credentials.bundleId", "Required: the certificate's subject carries no bundle id (UID).");
                return null;
            }

            // The certificate's UID is the tenant's text as much as a bundleId field is: it becomes apns-topic.
            if (r.BundleId is null && !BundleIdPattern().IsMatch(bundleId))
            {
                v.Add("credentials.bundleId", "Required: the certificate's bundle id (UID) is not a bundle id (letters, digits, dots and hyphens); give bundleId.");
                return null;
            }

            if (!v.IsValid)
            {
                return null;
            }

            return new ValidatedCredentials(CredentialTypes.Certificate,
                new JsonObject
                {
                    ["type"] = CredentialTypes.Certificate,
                    ["bundleId"] = bundleId,
                    ["subject"] = certificate.Subject,
                    ["notAfter"] = notAfter,
                },
                new JsonObject { ["certificate"] = r.Certificate, ["password"] = r.Password, ["bundleId"] = bundleId });
        }
    }

    private static ValidatedCredentials? ValidateServiceAccount(CredentialsRequest r, Validation v)
    {
        Forbid(v, "teamId", r.TeamId, "keyId", r.KeyId);
        Forbid(v, "privateKey", r.PrivateKey, "bundleId", r.BundleId);
        Forbid(v, "certificate", r.Certificate, "password", r.Password);
        if (r.ServiceAccountJson is not { } element || element.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            v.Add("credentials.serviceAccountJson", "Required: the service-account JSON file from the Firebase console (as a string or an object).");
            return null;
        }

        var json = element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText();
        if (json.Length > MaxServiceAccountLength)
        {
            v.Add("credentials.serviceAccountJson", $"At most {MaxServiceAccountLength} characters.");
            return null;
        }

        var account = ServiceAccount.Parse(json, out var error);
        if (account is null)
        {
            v.Add("credentials.serviceAccountJson", error!);
            return null;
        }

        if (!v.IsValid)
        {
            return null;
        }

        return new ValidatedCredentials(CredentialTypes.ServiceAccount,
            new JsonObject { ["type"] = CredentialTypes.ServiceAccount, ["projectId"] = account.ProjectId, ["clientEmail"] = account.ClientEmail },
            new JsonObject { ["serviceAccountJson"] = json });
    }

    private static void CheckBundleId(string? bundleId, Validation v)
    {
        if (bundleId is null || !BundleIdPattern().IsMatch(bundleId))
        {
            v.Add("credentials.bundleId", "Required: the app's bundle id (letters, digits, dots and hyphens), the default apns-topic.");
        }
    }

    private static void Forbid(Validation v, string name1, object? value1, string? name2 = null, object? value2 = null)
    {
        if (value1 is not null)
        {
            v.Add("credentials." + name1, "Not used by this credentials type.");
        }

        if (name2 is not null && value2 is not null)
        {
            v.Add("credentials." + name2, "Not used by this credentials type.");
        }
    }

    private static bool IsP256PrivateKey(string pem)
    {
        try
        {
            using var key = ECDsa.Create();
            key.ImportFromPem(pem);
            var parameters = key.ExportParameters(includePrivateParameters: true);
            return parameters.D is { Length: 32 } && key.KeySize == 256;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            return false;
        }
    }

    private static string? BundleIdFromSubject(X509Certificate2 certificate)
    {
        // Apple push certificates carry the bundle id as UID (0.9.2342.19200300.100.1.1) in the subject.
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.GetSingleElementType().Value == "0.9.2342.19200300.100.1.1")
            {
                return rdn.GetSingleElementValue();
            }
        }

        return null;
    }
}

/// <summary>The fields of a Google service-account JSON the gateway needs, checked on the way in.</summary>
internal sealed record ServiceAccount(string ProjectId, string ClientEmail)
{
    private static readonly JsonDocumentOptions ParseOptions = new() { AllowDuplicateProperties = false, MaxDepth = 32 };

    public static ServiceAccount? Parse(string json, out string? error)
    {
        JsonObject? root;
        try
        {
            // Duplicate keys are refused while parsing: by default JsonNode.Parse accepts them and the object then
            // throws ArgumentException when first read (a 500). Keys compare case-sensitively, as JSON says.
            root = JsonNode.Parse(json, documentOptions: ParseOptions) as JsonObject;
        }
        catch (JsonException ex)
        {
            error = ex.Message.Contains("uplicate", StringComparison.Ordinal)
                ? "Not a valid service-account JSON: a key appears more than once."
                : "Not a JSON object.";
            return null;
        }

        if (root is null)
        {
            error = "Not a JSON object.";
            return null;
        }

        string? Field(string name) => root.TryGetPropertyValue(name, out var node) && node is JsonValue value && value.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;

        var missing = new[] { "project_id", "client_email", "private_key" }.Where(f => Field(f) is null).ToList();
        if (missing.Count > 0)
        {
            error = "The service-account JSON lacks " + string.Join(", ", missing) + ".";
            return null;
        }

        if (Field("type") is { } type && type != "service_account")
        {
            error = $"Expected a service-account key (type \"service_account\"), not \"{type}\".";
            return null;
        }

        try
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(Field("private_key"));
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            error = "private_key is not a PEM RSA private key.";
            return null;
        }

        error = null;
        return new ServiceAccount(Field("project_id")!, Field("client_email")!);
    }
}
