using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.Simulator;

namespace PushGateway.IntegrationTests.Operations;

/// <summary>
/// What `docker compose restart simulator` does to a running gateway: the simulator comes back on the same ports with
/// a new self-signed certificate in the shared file. The gateway trusts the new file at the next handshake, without
/// a restart; and a simulator restarted over a still-valid certificate keeps it.
/// </summary>
public sealed class TrustedCertificateReloadTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _folder = Directory.CreateTempSubdirectory("pg-certs-").FullName;
    private SimulatorHost _simulator = null!;
    private TestGateway _gateway = null!;

    private string CertificatePath => Path.Combine(_folder, "simulator.pem");

    public async ValueTask InitializeAsync()
    {
        _simulator = await SimulatorHost.StartAsync(new SimulatorOptions { CertificatePath = CertificatePath }, CancellationToken.None);
        _gateway = new ReloadGateway(_simulator);
        await _gateway.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _simulator.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Simulator_RestartedWithANewCertificate_IsTrustedWithoutRestartingTheGateway()
    {
        var project = await _gateway.NewProjectAsync(Ct);
        using var p256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var key = _simulator.State.AddApnsKey(new ApnsKeyRequest { TeamId = "TEAM123456", PublicKeyPem = p256.ExportSubjectPublicKeyInfoPem() });
        var app = await project.Client.PostAsJsonAsync("v1/applications", new
        {
            name = "ios",
            platform = "apns",
            environment = "production",
            credentials = new { type = "token", teamId = key.TeamId, keyId = key.KeyId, privateKey = p256.ExportPkcs8PrivateKeyPem(), bundleId = "com.example.app" },
        }, Ct);
        var appId = (await app.ReadObjectAsync(Ct)).Id();
        var endpoint = (await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct)).Id();
        await SendAndExpectDeliveredAsync(project.Client, endpoint);
        var before = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(CertificatePath, Ct));

        // "Restart" the simulator on the same ports; its old certificate and key are gone, so it makes a new one.
        var ports = new SimulatorOptions
        {
            CertificatePath = CertificatePath,
            ApnsProductionPort = _simulator.ApnsProductionUrl.Port,
            ApnsSandboxPort = _simulator.ApnsSandboxUrl.Port,
            FcmPort = _simulator.FcmUrl.Port,
            ControlPort = _simulator.ControlUrl.Port,
        };
        await _simulator.DisposeAsync();
        File.Delete(CertificatePath);
        File.Delete(Path.ChangeExtension(CertificatePath, ".key"));
        _simulator = await SimulatorHost.StartAsync(ports, CancellationToken.None);
        _simulator.State.AddApnsKey(new ApnsKeyRequest { TeamId = key.TeamId, KeyId = key.KeyId, PublicKeyPem = p256.ExportSubjectPublicKeyInfoPem() });
        Assert.NotEqual(before.Thumbprint, _simulator.Certificate.Thumbprint);

        await SendAndExpectDeliveredAsync(project.Client, endpoint);
    }

    [Fact]
    public async Task Simulator_RestartedOverAValidCertificate_KeepsIt()
    {
        var first = _simulator.Certificate.Thumbprint;
        var ports = new SimulatorOptions { CertificatePath = CertificatePath };
        await using (var second = await SimulatorHost.StartAsync(ports, Ct))
        {
            Assert.Equal(first, second.Certificate.Thumbprint);
            Assert.Equal(first, X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(CertificatePath, Ct)).Thumbprint);
        }

        // Expiring within a day: replaced.
        var soon = new SimulatorOptions { CertificatePath = CertificatePath, TimeProvider = new ShiftedTime(TimeSpan.FromDays(365)) };
        await using var third = await SimulatorHost.StartAsync(soon, Ct);
        Assert.NotEqual(first, third.Certificate.Thumbprint);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.ChangeExtension(CertificatePath, ".key")));
        }
    }

    private static async Task SendAndExpectDeliveredAsync(HttpClient client, Guid endpointId)
    {
        var messageId = await DeliveryGateway.SendAsync(client, new { target = new { endpointId }, notification = new { title = "hi" } }, Ct);
        var message = await DeliveryGateway.WaitForMessageAsync(client, messageId, Ct,
            m => m["counts"]!["delivered"]!.GetValue<long>() == 1, TimeSpan.FromSeconds(20));
        Assert.Equal(1, message["counts"]!["delivered"]!.GetValue<long>());
    }

    private sealed class ShiftedTime(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
    }

    private sealed class ReloadGateway(SimulatorHost simulator) : TestGateway
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Apns:ProductionUrl"] = simulator.ApnsProductionUrl.ToString(),
            ["Apns:SandboxUrl"] = simulator.ApnsSandboxUrl.ToString(),
            ["Fcm:BaseUrl"] = simulator.FcmUrl.ToString(),
            ["Fcm:TokenUrl"] = simulator.FcmTokenUrl.ToString(),
            ["Providers:TrustedCertificatePath"] = simulator.CertificatePath,
            ["Delivery:PollInterval"] = "00:00:00.050",
            ["Delivery:RetryBaseDelay"] = "00:00:00.100",
            ["Delivery:RetryMaxDelay"] = "00:00:01",
            ["Delivery:SweepInterval"] = "00:00:00.200",
            ["Delivery:RequestTimeout"] = "00:00:05",
        };
    }
}
