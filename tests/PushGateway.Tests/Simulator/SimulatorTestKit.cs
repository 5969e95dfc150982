using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using PushGateway.Simulator;

namespace PushGateway.Tests.Simulator;

/// <summary>Hand-made JWTs for the simulator tests (test code, independent of the gateway's clients).</summary>
internal static class TestJwt
{
    public static string Es256(string privateKeyPem, string keyId, string teamId, DateTimeOffset issuedAt, string alg = "ES256")
    {
        using var key = ECDsa.Create();
        key.ImportFromPem(privateKeyPem);
        var header = Encode(new Dictionary<string, object> { ["alg"] = alg, ["kid"] = keyId });
        var payload = Encode(new Dictionary<string, object> { ["iss"] = teamId, ["iat"] = issuedAt.ToUnixTimeSeconds() });
        var signature = key.SignData(Encoding.ASCII.GetBytes(header + "." + payload), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return header + "." + payload + "." + Base64Url(signature);
    }

    public static string Rs256(string privateKeyPem, IDictionary<string, object> claims, string? keyId = null)
    {
        using var key = RSA.Create();
        key.ImportFromPem(privateKeyPem);
        var headerValues = new Dictionary<string, object> { ["alg"] = "RS256", ["typ"] = "JWT" };
        if (keyId is not null)
        {
            headerValues["kid"] = keyId;
        }

        var header = Encode(headerValues);
        var payload = Encode(claims);
        var signature = key.SignData(Encoding.ASCII.GetBytes(header + "." + payload), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return header + "." + payload + "." + Base64Url(signature);
    }

    public static string Base64Url(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    private static string Encode<T>(T value) => Base64Url(JsonSerializer.SerializeToUtf8Bytes(value));
}

/// <summary>Plain HttpClients for the simulator: HTTP/2 exact, trusting only the simulator's PEM as a custom root.</summary>
internal static class TestClients
{
    public static HttpClient Create(string certificatePemPath, X509Certificate2? clientCertificate = null, Version? version = null)
    {
        // CreateFromPemFile(path) would demand a private key in the file; the PEM holds only the certificate.
        var root = X509Certificate2.CreateFromPem(File.ReadAllText(certificatePemPath));
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,

            // APNs header values are UTF-8 (a collapse id may hold any text).
            RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8,
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trusts(root, certificate, errors),
            },
        };
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = new X509CertificateCollection { clientCertificate };
        }

        return new HttpClient(handler, disposeHandler: true)
        {
            DefaultRequestVersion = version ?? HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    /// <summary>The way the gateway's clients trust the simulator: chain built with a custom root, name must match.</summary>
    public static bool Trusts(X509Certificate2 root, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}

/// <summary>A started simulator plus a registered APNs key and a client; one per test.</summary>
internal sealed class ApnsTestContext : IAsyncDisposable
{
    public const string TeamId = "TEAM123456";
    public const string Topic = "com.example.app";
    public const string Token = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

    private ApnsTestContext(SimulatorHost sim, FakeTimeProvider time, ApnsKeyResult key, HttpClient client)
    {
        Sim = sim;
        Time = time;
        Key = key;
        Client = client;
    }

    private string? _jwt;

    public SimulatorHost Sim { get; }
    public FakeTimeProvider Time { get; }
    public ApnsKeyResult Key { get; }
    public HttpClient Client { get; }
    public SimulatorState State => Sim.State;

    public static async Task<ApnsTestContext> StartAsync(
        SimulatorOptions? options = null, ApnsKeyRequest? key = null, CancellationToken cancellationToken = default)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 15, 12, 0, 0, TimeSpan.Zero));
        options ??= new SimulatorOptions();
        options.TimeProvider = time;
        var sim = await SimulatorHost.StartAsync(options, cancellationToken);
        var registered = sim.State.AddApnsKey(key ?? new ApnsKeyRequest { TeamId = TeamId });
        return new ApnsTestContext(sim, time, registered, TestClients.Create(sim.CertificatePath));
    }

    /// <summary>
    /// The JWT requests use by default, made once: ES256 signatures are randomized, so every new signing is a
    /// different JWT (and two on one connection within 20 minutes are TooManyProviderTokenUpdates).
    /// </summary>
    public string Jwt() => _jwt ??= NewJwt();

    /// <summary>A freshly signed JWT (a different string every call).</summary>
    public string NewJwt(DateTimeOffset? issuedAt = null) =>
        TestJwt.Es256(Key.PrivateKeyPem!, Key.KeyId, Key.TeamId, issuedAt ?? Time.GetUtcNow());

    public HttpClient NewClient(X509Certificate2? clientCertificate = null) => TestClients.Create(Sim.CertificatePath, clientCertificate);

    public Task<ApnsReply> SendAsync(
        string? jwt = null,
        string token = Token,
        string? topic = Topic,
        string body = """{"aps":{"alert":"hello"}}""",
        bool sandbox = false,
        HttpClient? client = null,
        Action<HttpRequestMessage>? configure = null,
        bool noAuth = false,
        CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(sandbox ? Sim.ApnsSandboxUrl : Sim.ApnsProductionUrl, "3/device/" + token))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        if (!noAuth)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("bearer", jwt ?? Jwt());
        }

        if (topic is not null)
        {
            request.Headers.TryAddWithoutValidation("apns-topic", topic);
        }

        configure?.Invoke(request);
        return ApnsReply.SendAsync(client ?? Client, request, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Sim.DisposeAsync();
    }
}

/// <summary>An APNs answer: status, reason, timestamp and the interesting headers.</summary>
internal sealed record ApnsReply(HttpStatusCode Status, string? Reason, long? Timestamp, string? ApnsId, string? UniqueId, string? RetryAfter, string? ContentType)
{
    public static async Task<ApnsReply> SendAsync(HttpClient client, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await client.SendAsync(request, cancellationToken);
        Assert.Equal(HttpVersion.Version20, response.Version);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        string? reason = null;
        long? timestamp = null;
        if (text.Length > 0)
        {
            using var document = JsonDocument.Parse(text);
            reason = document.RootElement.GetProperty("reason").GetString();
            if (document.RootElement.TryGetProperty("timestamp", out var ts))
            {
                timestamp = ts.GetInt64();
            }
        }

        return new ApnsReply(
            response.StatusCode,
            reason,
            timestamp,
            Header(response, "apns-id"),
            Header(response, "apns-unique-id"),
            response.Headers.RetryAfter?.Delta is { } delta ? ((int)delta.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
            response.Content.Headers.ContentType?.MediaType);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : null;
}

internal static class Eventually
{
    /// <summary>Polls a condition until it holds or the timeout passes (no fixed sleeps in assertions).</summary>
    public static async Task<bool> TrueAsync(Func<bool> condition, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(20, cancellationToken);
        }

        return condition();
    }
}
