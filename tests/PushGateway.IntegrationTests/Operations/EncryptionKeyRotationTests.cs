using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using PushGateway.Hosting;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.Simulator;

namespace PushGateway.IntegrationTests.Operations;

/// <summary>
/// The README's key rotation procedure, on real gateway processes: a wrong key refuses to start (and changes no
/// application), the new key with the old one as a previous key starts and re-encrypts every row, after which the
/// new key alone is enough.
/// </summary>
public sealed class EncryptionKeyRotationTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private SimulatorHost _simulator = null!;

    public async ValueTask InitializeAsync() =>
        _simulator = await SimulatorHost.StartAsync(new SimulatorOptions(), CancellationToken.None);

    public async ValueTask DisposeAsync() => await _simulator.DisposeAsync();

    private Dictionary<string, string?> ProcessSettings(string connectionString, string key, string? previous) => new()
    {
        ["ConnectionStrings:PushGateway"] = connectionString,
        ["PushGateway:AdminKey"] = TestGateway.AdminKey,
        ["PushGateway:EncryptionKey"] = key,
        ["PushGateway:PreviousEncryptionKeys"] = previous,
        ["Apns:ProductionUrl"] = _simulator.ApnsProductionUrl.ToString(),
        ["Apns:SandboxUrl"] = _simulator.ApnsSandboxUrl.ToString(),
        ["Fcm:BaseUrl"] = _simulator.FcmUrl.ToString(),
        ["Providers:TrustedCertificatePath"] = _simulator.CertificatePath,
        ["Delivery:PollInterval"] = "00:00:00.050",
    };

    /// <summary>An API-only gateway under key A (<see cref="TestGateway.EncryptionKey"/>), to create things and query rows.</summary>
    private sealed class ApiOnlyGateway(string connectionString) : TestGateway
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Delivery:Enabled"] = "false" };

        public override async ValueTask InitializeAsync() => await StartAsync(connectionString);
    }

    [Fact]
    public async Task WrongKey_RefusesStart_PreviousKeyRotates_ThenNewKeyAlone_Starts()
    {
        var database = await PostgresServer.Instance.CreateDatabaseAsync(Ct);
        await using var api = new ApiOnlyGateway(database);
        await api.InitializeAsync();
        var keyA = TestGateway.EncryptionKey;
        var keyB = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var idA = Convert.ToHexStringLower(SecretBox.KeyId(Convert.FromBase64String(keyA)));
        var idB = Convert.ToHexStringLower(SecretBox.KeyId(Convert.FromBase64String(keyB)));

        var project = await api.NewProjectAsync(Ct);
        var apnsKey = _simulator.State.AddApnsKey(new ApnsKeyRequest { TeamId = "TEAM123456" });
        var created = await project.Client.PostAsJsonAsync("v1/applications", new
        {
            name = "ios",
            platform = "apns",
            environment = "production",
            credentials = new { type = "token", teamId = apnsKey.TeamId, keyId = apnsKey.KeyId, privateKey = apnsKey.PrivateKeyPem, bundleId = "com.example.app" },
        }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var appId = (await created.ReadObjectAsync(Ct)).Id();
        var patched = await project.Client.PatchAsJsonAsync($"v1/applications/{appId}",
            new { events = new { url = "https://hooks.example.com/pushgateway", secret = "0123456789abcdef0123" } }, Ct);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal(idA + "/" + idA, await KeyIdsAsync(api, appId));

        // Key B only: refused, saying how many applications and which setting to fix; nothing changed.
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayProcess.StartAsync(ProcessSettings(database, keyB, null), Ct));
        Assert.Contains("exited with 1", refused.Message, StringComparison.Ordinal);
        Assert.Contains("1 application(s)", refused.Message, StringComparison.Ordinal);
        Assert.Contains("PushGateway__PreviousEncryptionKeys", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(keyA, refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(keyB, refused.Message, StringComparison.Ordinal);
        Assert.True(await api.ScalarAsync<bool>("SELECT enabled FROM applications WHERE id = @id", Ct, ("id", appId)));
        Assert.Equal(idA + "/" + idA, await KeyIdsAsync(api, appId));

        // A malformed previous key: refused with a clear message.
        var malformed = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayProcess.StartAsync(ProcessSettings(database, keyB, "AAAA"), Ct));
        Assert.Contains("PushGateway__PreviousEncryptionKeys must be", malformed.Message, StringComparison.Ordinal);

        // Key B with A as a previous key: starts, re-encrypts the row under B, and the application still delivers.
        await using (var rotating = await GatewayProcess.StartAsync(ProcessSettings(database, keyB, keyA), Ct))
        {
            await DeliveryGateway.WaitUntilAsync(async () => await KeyIdsAsync(api, appId) == idB + "/" + idB, Ct, TimeSpan.FromSeconds(30), "rows re-encrypted under key B");
            await SendOneAndWaitAsync(project, appId);
        }

        // Key B alone: starts and delivers.
        await using (var after = await GatewayProcess.StartAsync(ProcessSettings(database, keyB, null), Ct))
        {
            await SendOneAndWaitAsync(project, appId);
            Assert.True(await api.ScalarAsync<bool>("SELECT enabled FROM applications WHERE id = @id", Ct, ("id", appId)));
        }
    }

    private static async Task<string?> KeyIdsAsync(TestGateway api, Guid appId) => await api.ScalarAsync<string>("""
        SELECT encode(substring(credentials_ciphertext from 2 for 4), 'hex') || '/' || encode(substring(events_secret_ciphertext from 2 for 4), 'hex')
        FROM applications WHERE id = @id
        """, Ct, ("id", appId));

    private static async Task SendOneAndWaitAsync(ProjectContext project, Guid appId)
    {
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var created = await project.Client.PostAsJsonAsync($"v1/applications/{appId}/endpoints", new { token }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var endpoint = await created.ReadObjectAsync(Ct);
        var messageId = await DeliveryGateway.SendAsync(project.Client, new { target = new { endpointIds = new[] { endpoint.Id() } }, notification = new { title = "rotated" } }, Ct);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct, timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(1, message["counts"]!["delivered"]!.GetValue<long>());
    }
}
