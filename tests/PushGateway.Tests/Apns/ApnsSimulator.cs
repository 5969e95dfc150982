using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using PushGateway.Apns;
using PushGateway.Simulator;

namespace PushGateway.Tests.Apns;

/// <summary>
/// An in-process simulator plus a small client for its control API (the contract's JSON, not the simulator's types),
/// and factories for <see cref="ApnsClient"/>s that trust it.
/// </summary>
public sealed class ApnsSimulator : IAsyncDisposable
{
    private readonly HttpClient _control;

    private ApnsSimulator(SimulatorHost host)
    {
        Host = host;
        _control = new HttpClient { BaseAddress = host.ControlUrl };
        TrustedCertificate = X509CertificateLoader.LoadCertificate(host.Certificate.RawData);
    }

    public SimulatorHost Host { get; }

    public X509Certificate2 TrustedCertificate { get; }

    public static async Task<ApnsSimulator> StartAsync(
        TimeProvider? timeProvider = null, int maxConcurrentStreams = 1000, CancellationToken cancellationToken = default)
    {
        var host = await SimulatorHost.StartAsync(
            new SimulatorOptions
            {
                RecordRequests = true,
                MaxConcurrentStreams = maxConcurrentStreams,
                TimeProvider = timeProvider ?? TimeProvider.System,
            },
            cancellationToken);
        return new ApnsSimulator(host);
    }

    public ApnsClientOptions Options(bool sandbox = false, TimeProvider? timeProvider = null) => new()
    {
        BaseUrl = sandbox ? Host.ApnsSandboxUrl : Host.ApnsProductionUrl,
        TrustedCertificate = TrustedCertificate,
        TimeProvider = timeProvider ?? TimeProvider.System,
        RequestTimeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>Registers a key the simulator generates; returns credentials holding its private key.</summary>
    public async Task<ApnsTokenCredentials> AddKeyAsync(
        string teamId = "TEAM000001",
        string[]? topics = null,
        string environment = "both",
        CancellationToken cancellationToken = default)
    {
        var body = new JsonObject { ["teamId"] = teamId, ["environment"] = environment };
        if (topics is not null)
        {
            body["topics"] = new JsonArray(topics.Select(t => (JsonNode?)t).ToArray());
        }

        var key = await PostAsync("/control/apns/keys", body, cancellationToken);
        return new ApnsTokenCredentials(teamId, key["keyId"]!.GetValue<string>(), key["privateKeyPem"]!.GetValue<string>());
    }

    public async Task RevokeKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        using var response = await _control.DeleteAsync($"/control/apns/keys/{keyId}", cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Registers a generated client certificate; returns it loaded from the PKCS#12 the simulator gave.</summary>
    public async Task<X509Certificate2> AddCertificateAsync(
        string bundleId, string environment = "both", CancellationToken cancellationToken = default)
    {
        var result = await PostAsync(
            "/control/apns/certificates", new JsonObject { ["bundleId"] = bundleId, ["environment"] = environment }, cancellationToken);
        return X509CertificateLoader.LoadPkcs12(
            Convert.FromBase64String(result["pkcs12Base64"]!.GetValue<string>()), result["password"]!.GetValue<string>());
    }

    public async Task PutSettingsAsync(JsonObject settings, CancellationToken cancellationToken)
    {
        using var response = await _control.PutAsJsonAsync("/control/settings", settings, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    public async Task SetTokenAsync(string deviceToken, JsonObject behaviour, CancellationToken cancellationToken)
    {
        using var response = await _control.PutAsJsonAsync($"/control/tokens/{deviceToken}", behaviour, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    public async Task<JsonArray> GetReceivedAsync(string deviceToken, CancellationToken cancellationToken)
    {
        var page = await _control.GetFromJsonAsync<JsonNode>(
            $"/control/received?platform=apns&token={deviceToken}&limit=1000", cancellationToken);
        return page!["items"]!.AsArray();
    }

    public async Task<JsonNode> GetApnsCountersAsync(CancellationToken cancellationToken)
    {
        var counters = await _control.GetFromJsonAsync<JsonNode>("/control/counters", cancellationToken);
        return counters!["apns"]!;
    }

    public async ValueTask DisposeAsync()
    {
        _control.Dispose();
        await Host.DisposeAsync();
    }

    private async Task<JsonNode> PostAsync(string path, JsonObject body, CancellationToken cancellationToken)
    {
        using var response = await _control.PostAsJsonAsync(path, body, cancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonNode>(cancellationToken))!;
    }
}

/// <summary>One simulator per test class (tests in a class run one after the other; classes run in parallel).</summary>
public sealed class ApnsSimulatorFixture : IAsyncLifetime
{
    public ApnsSimulator Simulator { get; private set; } = null!;

    public async ValueTask InitializeAsync() =>
        Simulator = await ApnsSimulator.StartAsync(cancellationToken: TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync() => Simulator.DisposeAsync();
}

internal static class ApnsTestData
{
    public static readonly byte[] Payload = """{"aps":{"alert":{"title":"Hello","body":"World"}}}"""u8.ToArray();

    /// <summary>A fresh 32-byte hex token, so tests never share a token's behaviour or received list.</summary>
    public static string NewDeviceToken() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());

    public static ApnsRequest Request(string deviceToken, string topic = "com.example.app") => new()
    {
        DeviceToken = deviceToken,
        Topic = topic,
        Payload = Payload,
    };
}
