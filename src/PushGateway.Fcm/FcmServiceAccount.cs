using System.Security.Cryptography;
using System.Text.Json;

namespace PushGateway.Fcm;

/// <summary>The public parts of a Google service-account key file (the private key is never exposed).</summary>
/// <param name="ProjectId"><c>project_id</c>: the Firebase project messages are sent for.</param>
/// <param name="ClientEmail"><c>client_email</c>: the service account's identity (the JWT issuer).</param>
/// <param name="PrivateKeyId"><c>private_key_id</c>, or null when the file has none.</param>
/// <param name="TokenUri">
/// <c>token_uri</c> as the file states it (Google's when the file has none). Informational only: tokens are always
/// requested from <see cref="FcmClientOptions.TokenUrl"/>, never from this URL, which whoever uploaded the file chose.
/// </param>
public sealed record FcmServiceAccountInfo(string ProjectId, string ClientEmail, string? PrivateKeyId, Uri TokenUri);

/// <summary>
/// Validation of service-account JSON (the key file downloaded from the Google Cloud / Firebase console), for the
/// gateway's input checks and for <see cref="FcmClient"/>.
/// </summary>
public static class FcmServiceAccount
{
    /// <summary>Google's OAuth token endpoint: the default of <see cref="FcmClientOptions.TokenUrl"/>.</summary>
    public static readonly Uri DefaultTokenUri = new("https://oauth2.googleapis.com/token");

    /// <summary>
    /// Checks that <paramref name="json"/> is a service-account key with <c>project_id</c>, <c>client_email</c> and a
    /// <c>private_key</c> that parses as an RSA key. On failure <paramref name="error"/> names the missing or bad field;
    /// it never contains the key.
    /// </summary>
    public static bool TryParse(string json, out FcmServiceAccountInfo? info, out string? error)
    {
        if (TryParseWithKey(json, out var parsed, out error))
        {
            parsed!.Value.Key.Dispose();
            info = parsed.Value.Info;
            return true;
        }

        info = null;
        return false;
    }

    internal static bool TryParseWithKey(string json, out (FcmServiceAccountInfo Info, string PrivateKeyPem, RSA Key)? parsed, out string? error)
    {
        parsed = null;
        if (string.IsNullOrWhiteSpace(json))
        {
            error = "The service account JSON is empty.";
            return false;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            // JsonException's message carries only positions, never content, so it cannot leak the key.
            error = $"The service account is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine}).";
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "The service account JSON must be an object.";
                return false;
            }

            if (!TryGetString(root, "type", out var type, out error))
            {
                return false;
            }

            if (type is not null && type != "service_account")
            {
                error = $"Field 'type' must be \"service_account\" (it is \"{Truncate(type)}\").";
                return false;
            }

            if (!TryGetRequired(root, "project_id", out var projectId, out error)
                || !TryGetRequired(root, "client_email", out var clientEmail, out error)
                || !TryGetRequired(root, "private_key", out var privateKey, out error)
                || !TryGetString(root, "private_key_id", out var privateKeyId, out error)
                || !TryGetString(root, "token_uri", out var tokenUriText, out error))
            {
                return false;
            }

            var tokenUri = DefaultTokenUri;
            if (tokenUriText is not null
                && (!Uri.TryCreate(tokenUriText, UriKind.Absolute, out tokenUri!) || (tokenUri.Scheme != Uri.UriSchemeHttps && tokenUri.Scheme != Uri.UriSchemeHttp)))
            {
                error = "Field 'token_uri' must be an absolute https URL.";
                return false;
            }

            var rsa = RSA.Create();
            try
            {
                rsa.ImportFromPem(privateKey);
                if (rsa.KeySize < 1024)
                {
                    throw new CryptographicException("key too small");
                }

                // Importing a public key also "succeeds"; signing proves there is a private part.
                rsa.SignData([1], HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            }
            catch (Exception ex) when (ex is ArgumentException or CryptographicException)
            {
                rsa.Dispose();
                error = "Field 'private_key' is not a PEM RSA private key (expected \"-----BEGIN PRIVATE KEY-----\" PKCS#8 or \"-----BEGIN RSA PRIVATE KEY-----\").";
                return false;
            }

            parsed = (new FcmServiceAccountInfo(projectId, clientEmail, privateKeyId, tokenUri), privateKey, rsa);
            error = null;
            return true;
        }
    }

    private static bool TryGetRequired(JsonElement root, string name, out string value, out string? error)
    {
        value = "";
        if (!TryGetString(root, name, out var text, out error))
        {
            return false;
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            error = $"Field '{name}' is missing or empty.";
            return false;
        }

        value = text;
        return true;
    }

    private static bool TryGetString(JsonElement root, string name, out string? value, out string? error)
    {
        value = null;
        error = null;
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            error = $"Field '{name}' must be a string.";
            return false;
        }

        value = element.GetString();
        return true;
    }

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
