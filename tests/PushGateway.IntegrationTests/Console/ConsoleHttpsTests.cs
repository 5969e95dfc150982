using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.WebConsole;

/// <summary>The gateway serving HTTPS itself (Kestrel with a certificate): the console's cookies are Secure there.</summary>
public sealed class HttpsGateway : TestGateway
{
    private static readonly Lazy<(string Certificate, string Key, byte[] Der)> Files = new(WriteCertificate);

    /// <summary>The certificate the gateway serves (DER), the one the test's client trusts.</summary>
    public static byte[] Certificate => Files.Value.Der;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["urls"] = "https://127.0.0.1:0",
        ["Kestrel:Certificates:Default:Path"] = Files.Value.Certificate,
        ["Kestrel:Certificates:Default:KeyPath"] = Files.Value.Key,
    };

    private static (string, string, byte[]) WriteCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var directory = Directory.CreateTempSubdirectory("console-https-").FullName;
        var certificatePath = Path.Combine(directory, "gateway.pem");
        var keyPath = Path.Combine(directory, "gateway.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath, certificate.RawData);
    }
}

public sealed partial class ConsoleHttpsTests(HttpsGateway gateway) : IClassFixture<HttpsGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    [Fact]
    public async Task OverHttps_TheSessionAndAntiforgeryCookiesAreSecure_HttpOnly_AndSameSiteStrict()
    {
        Assert.Equal("https", gateway.BaseAddress.Scheme);
        var trusted = HttpsGateway.Certificate;
        using var handler = new HttpClientHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate is not null && certificate.RawData.AsSpan().SequenceEqual(trusted),
        };
        using var client = new HttpClient(handler) { BaseAddress = gateway.BaseAddress };

        var form = await client.GetAsync("console/signin", Ct);
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        var antiforgery = Assert.Single(SetCookies(form), c => c.StartsWith("pushgateway_console_af=", StringComparison.Ordinal));
        AssertFlags(antiforgery);
        var token = AntiforgeryField().Match(await form.Content.ReadAsStringAsync(Ct)).Groups[1].Value;

        using var signIn = new HttpRequestMessage(HttpMethod.Post, "console/signin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = TestGateway.AdminKey, ["__RequestVerificationToken"] = token }),
        };
        signIn.Headers.Add("Cookie", antiforgery[..antiforgery.IndexOf(';', StringComparison.Ordinal)]);
        var signedIn = await client.SendAsync(signIn, Ct);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var session = Assert.Single(SetCookies(signedIn), c => c.StartsWith("pushgateway_console=", StringComparison.Ordinal));
        AssertFlags(session);
    }

    private static void AssertFlags(string setCookie)
    {
        var attributes = setCookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(a => a.ToLowerInvariant()).ToList();
        Assert.Contains("secure", attributes);
        Assert.Contains("httponly", attributes);
        Assert.Contains("samesite=strict", attributes);
        Assert.Contains("path=/console", attributes);
    }

    private static IEnumerable<string> SetCookies(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [];
}
