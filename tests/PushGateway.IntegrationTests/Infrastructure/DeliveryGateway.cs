using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PushGateway.Simulator;

namespace PushGateway.IntegrationTests.Infrastructure;

/// <summary>
/// The gateway with its delivery workers, pointed at an in-process APNs/FCM simulator over real sockets (HTTP/2 and
/// TLS, the simulator's self-signed certificate trusted through Providers__TrustedCertificatePath). Retries and
/// sweeps are fast so that tests take seconds.
/// </summary>
public class DeliveryGateway : TestGateway
{
    public SimulatorHost Simulator { get; private set; } = null!;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Apns:ProductionUrl"] = Simulator.ApnsProductionUrl.ToString(),
        ["Apns:SandboxUrl"] = Simulator.ApnsSandboxUrl.ToString(),
        ["Fcm:BaseUrl"] = Simulator.FcmUrl.ToString(),
        ["Fcm:TokenUrl"] = Simulator.FcmTokenUrl.ToString(),
        ["Providers:TrustedCertificatePath"] = Simulator.CertificatePath,
        ["Delivery:PollInterval"] = "00:00:00.050",
        ["Delivery:RetryBaseDelay"] = "00:00:00.100",
        ["Delivery:RetryMaxDelay"] = "00:00:02",
        ["Delivery:SweepInterval"] = "00:00:00.200",
        ["Delivery:RequestTimeout"] = "00:00:05",
    };

    public override async ValueTask InitializeAsync()
    {
        Simulator = await SimulatorHost.StartAsync(new SimulatorOptions { ReceivedCapacity = 100_000 }, CancellationToken.None);
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Simulator.DisposeAsync();
    }

    /// <summary>An APNs application whose .p8 key the simulator knows.</summary>
    public async Task<Guid> CreateApnsAppAsync(HttpClient client, CancellationToken cancellationToken, string environment = "production", string bundleId = "com.example.app")
    {
        var key = Simulator.State.AddApnsKey(new ApnsKeyRequest { TeamId = "TEAM123456" });
        var response = await client.PostAsJsonAsync("v1/applications", new
        {
            name = "ios",
            platform = "apns",
            environment,
            credentials = new { type = "token", teamId = key.TeamId, keyId = key.KeyId, privateKey = key.PrivateKeyPem, bundleId },
        }, cancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadObjectAsync(cancellationToken)).Id();
    }

    public object NewApnsCredentials(string bundleId = "com.example.app")
    {
        var key = Simulator.State.AddApnsKey(new ApnsKeyRequest { TeamId = "TEAM123456" });
        return new { type = "token", teamId = key.TeamId, keyId = key.KeyId, privateKey = key.PrivateKeyPem, bundleId };
    }

    /// <summary>An FCM application whose service account the simulator knows.</summary>
    public async Task<Guid> CreateFcmAppAsync(HttpClient client, CancellationToken cancellationToken, string projectId = "sim-project")
    {
        var account = Simulator.State.AddFcmServiceAccount(new FcmServiceAccountRequest { ProjectId = projectId });
        var response = await client.PostAsJsonAsync("v1/applications", new
        {
            name = "android",
            platform = "fcm",
            credentials = new { type = "serviceAccount", serviceAccountJson = account.ServiceAccountJson },
        }, cancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadObjectAsync(cancellationToken)).Id();
    }

    /// <summary>Polls the message until <paramref name="done"/> holds (default: completed).</summary>
    public static async Task<JsonObject> WaitForMessageAsync(HttpClient client, Guid messageId, CancellationToken cancellationToken,
        Func<JsonObject, bool>? done = null, TimeSpan? timeout = null)
    {
        done ??= m => m["status"]!.GetValue<string>() == "completed";
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        JsonObject message = [];
        do
        {
            var response = await client.GetAsync($"v1/messages/{messageId}", cancellationToken);
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                // The database is restarting (resilience tests): ask again.
                await Task.Delay(200, cancellationToken);
                continue;
            }

            message = (await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken))!;
            if (done(message))
            {
                return message;
            }

            await Task.Delay(50, cancellationToken);
        }
        while (DateTimeOffset.UtcNow < deadline);

        Assert.Fail($"Message {messageId} did not get there in time: {message.ToJsonString()}");
        return message;
    }

    public static async Task<JsonObject> SingleDeliveryAsync(HttpClient client, Guid messageId, CancellationToken cancellationToken)
    {
        var page = await client.GetFromJsonAsync<JsonObject>($"v1/messages/{messageId}/deliveries", cancellationToken);
        return Assert.Single(page!["items"]!.AsArray())!.AsObject();
    }

    public static async Task<Guid> SendAsync(HttpClient client, object body, CancellationToken cancellationToken)
    {
        var response = await client.PostAsJsonAsync("v1/messages", body, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        return JsonNode.Parse(text)!["id"]!.GetValue<Guid>();
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, CancellationToken cancellationToken, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (DateTimeOffset.UtcNow > deadline)
            {
                Assert.Fail("Timed out waiting for " + (what ?? "a condition"));
            }

            await Task.Delay(50, cancellationToken);
        }
    }
}
