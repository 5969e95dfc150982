using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;

namespace PushGateway.IntegrationTests.Infrastructure;

/// <summary>Freshly generated provider credentials, shaped as the API takes them.</summary>
public static class TestCredentials
{
    public static string NewP8()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return key.ExportPkcs8PrivateKeyPem();
    }

    public static object ApnsToken(string? privateKey = null, string bundleId = "com.example.app") => new
    {
        type = "token",
        teamId = "TEAM123456",
        keyId = "KEY1234567",
        privateKey = privateKey ?? NewP8(),
        bundleId,
    };

    public static (string Base64, string Password, DateTimeOffset NotAfter) NewPkcs12(string bundleId = "com.example.app", TimeSpan? lifetime = null)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN=Apple Push Services: {bundleId}, UID={bundleId}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var notAfter = DateTimeOffset.UtcNow.Add(lifetime ?? TimeSpan.FromDays(365));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), notAfter);
        var password = "pw-" + Guid.NewGuid().ToString("N")[..8];
        return (Convert.ToBase64String(certificate.Export(X509ContentType.Pkcs12, password)), password, notAfter);
    }

    public static string NewServiceAccountJson(string projectId = "demo-project")
    {
        using var rsa = RSA.Create(2048);
        return new JsonObject
        {
            ["type"] = "service_account",
            ["project_id"] = projectId,
            ["private_key_id"] = Guid.NewGuid().ToString("N"),
            ["private_key"] = rsa.ExportPkcs8PrivateKeyPem(),
            ["client_email"] = $"push@{projectId}.iam.gserviceaccount.com",
            ["client_id"] = "1234567890",
            ["token_uri"] = "https://oauth2.googleapis.com/token",
        }.ToJsonString();
    }

    public static string ApnsTokenHex(int bytes = 32) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

    public static string FcmToken() => "fcm_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(96)).Replace('+', '-').Replace('/', '_').TrimEnd('=');
}
