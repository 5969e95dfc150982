using System.Security.Cryptography;
using System.Text.Json.Nodes;
using PushGateway.Fcm;

namespace PushGateway.Tests.Fcm;

public sealed class FcmServiceAccountTests
{
    private static readonly string Pkcs8Pem = CreateKeyPem(pkcs1: false);

    internal static string CreateKeyPem(bool pkcs1)
    {
        using var rsa = RSA.Create(2048);
        return pkcs1 ? rsa.ExportRSAPrivateKeyPem() : rsa.ExportPkcs8PrivateKeyPem();
    }

    internal static JsonObject ValidAccount(string? keyPem = null) => new()
    {
        ["type"] = "service_account",
        ["project_id"] = "demo-project",
        ["private_key_id"] = "abc123",
        ["private_key"] = keyPem ?? Pkcs8Pem,
        ["client_email"] = "fcm@demo-project.iam.gserviceaccount.com",
        ["client_id"] = "1234567890",
        ["auth_uri"] = "https://accounts.google.com/o/oauth2/auth",
        ["token_uri"] = "https://oauth2.googleapis.com/token",
    };

    [Fact]
    public void TryParse_ValidKeyFile_ReturnsThePublicParts()
    {
        Assert.True(FcmServiceAccount.TryParse(ValidAccount().ToJsonString(), out var info, out var error), error);

        Assert.Null(error);
        Assert.Equal(new FcmServiceAccountInfo("demo-project", "fcm@demo-project.iam.gserviceaccount.com", "abc123", new Uri("https://oauth2.googleapis.com/token")), info);
    }

    [Fact]
    public void TryParse_Pkcs1Key_IsAccepted()
    {
        Assert.True(FcmServiceAccount.TryParse(ValidAccount(CreateKeyPem(pkcs1: true)).ToJsonString(), out _, out var error), error);
    }

    [Fact]
    public void TryParse_NoTokenUri_DefaultsToGoogle()
    {
        var json = ValidAccount();
        json.Remove("token_uri");

        Assert.True(FcmServiceAccount.TryParse(json.ToJsonString(), out var info, out _));
        Assert.Equal(FcmServiceAccount.DefaultTokenUri, info!.TokenUri);
    }

    [Theory]
    [InlineData("project_id")]
    [InlineData("client_email")]
    [InlineData("private_key")]
    public void TryParse_MissingField_NamesIt(string field)
    {
        var json = ValidAccount();
        json.Remove(field);

        Assert.False(FcmServiceAccount.TryParse(json.ToJsonString(), out var info, out var error));

        Assert.Null(info);
        Assert.Equal($"Field '{field}' is missing or empty.", error);
    }

    [Theory]
    [InlineData("project_id")]
    [InlineData("client_email")]
    public void TryParse_EmptyField_NamesIt(string field)
    {
        var json = ValidAccount();
        json[field] = "  ";

        Assert.False(FcmServiceAccount.TryParse(json.ToJsonString(), out _, out var error));
        Assert.Contains($"'{field}'", error);
    }

    [Fact]
    public void TryParse_NonStringField_NamesIt()
    {
        var json = ValidAccount();
        json["client_email"] = 42;

        Assert.False(FcmServiceAccount.TryParse(json.ToJsonString(), out _, out var error));
        Assert.Equal("Field 'client_email' must be a string.", error);
    }

    [Fact]
    public void TryParse_BrokenKey_NamesTheFieldWithoutEchoingTheKey()
    {
        // A real key with its middle cut out: it looks like PEM but does not decode.
        var broken = Pkcs8Pem.Remove(100, 200);
        var json = ValidAccount(broken);

        Assert.False(FcmServiceAccount.TryParse(json.ToJsonString(), out _, out var error));

        Assert.StartsWith("Field 'private_key' is not a PEM RSA private key", error);
        Assert.DoesNotContain(broken.Split('\n')[1][..20], error);
    }

    [Fact]
    public void TryParse_PublicKeyOnly_IsRejected()
    {
        using var rsa = RSA.Create(2048);
        var json = ValidAccount(rsa.ExportSubjectPublicKeyInfoPem());

        Assert.False(FcmServiceAccount.TryParse(json.ToJsonString(), out _, out var error));
        Assert.StartsWith("Field 'private_key'", error);
    }

    [Fact]
    public void TryParse_EcKey_IsRejected()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var json = ValidAccount(ec.ExportPkcs8PrivateKeyPem());

        Assert.False(FcmServiceAccount.TryParse(json.ToJsonString(), out _, out var error));
        Assert.StartsWith("Field 'private_key'", error);
    }

    [Fact]
    public void TryParse_OtherCredentialType_IsRejected()
    {
        var json = ValidAccount();
        json["type"] = "authorized_user";

        Assert.False(FcmServiceAccount.TryParse(json.ToJsonString(), out _, out var error));
        Assert.Equal("Field 'type' must be \"service_account\" (it is \"authorized_user\").", error);
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("ftp://example.com/token")]
    [InlineData("/token")]
    public void TryParse_BadTokenUri_NamesIt(string tokenUri)
    {
        var json = ValidAccount();
        json["token_uri"] = tokenUri;

        Assert.False(FcmServiceAccount.TryParse(json.ToJsonString(), out _, out var error));
        Assert.Equal("Field 'token_uri' must be an absolute https URL.", error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("[]")]
    [InlineData("\"service_account\"")]
    public void TryParse_NotAnObject_IsRejected(string json)
    {
        Assert.False(FcmServiceAccount.TryParse(json, out var info, out var error));
        Assert.Null(info);
        Assert.NotNull(error);
    }

    [Fact]
    public void TryParse_InvalidJson_GivesThePositionNotTheContent()
    {
        var json = ValidAccount().ToJsonString();
        var truncated = json[..(json.IndexOf("BEGIN PRIVATE KEY", StringComparison.Ordinal) + 60)];

        Assert.False(FcmServiceAccount.TryParse(truncated, out _, out var error));

        Assert.StartsWith("The service account is not valid JSON (line 1, byte ", error);
        Assert.DoesNotContain("PRIVATE KEY", error);
    }

    [Fact]
    public void Constructor_MissingField_ThrowsArgumentExceptionNamingIt()
    {
        var json = ValidAccount();
        json.Remove("client_email");

        var ex = Assert.Throws<ArgumentException>(() => new FcmClient(new FcmClientOptions(), json.ToJsonString()));

        Assert.Equal("serviceAccountJson", ex.ParamName);
        Assert.Contains("Field 'client_email' is missing or empty.", ex.Message);
    }

    [Fact]
    public void Constructor_ValidAccount_BuildsTheSendUrlFromTheBaseUrl()
    {
        using var client = new FcmClient(new FcmClientOptions { BaseUrl = new Uri("https://127.0.0.1:4443/prefix") }, ValidAccount().ToJsonString());

        Assert.Equal("demo-project", client.ProjectId);
        Assert.Equal(new Uri("https://127.0.0.1:4443/prefix/v1/projects/demo-project/messages:send"), client.SendUri);
    }
}
