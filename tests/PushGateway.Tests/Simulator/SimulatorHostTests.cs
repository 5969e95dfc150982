using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using PushGateway.Simulator;

namespace PushGateway.Tests.Simulator;

/// <summary>Start-up: listeners, the generated server certificate, options and shutdown.</summary>
public sealed class SimulatorHostTests
{
    [Fact]
    public async Task Start_WritesAPublicOnlyPemThatClientsCanTrustAsCustomRoot()
    {
        var ct = TestContext.Current.CancellationToken;
        var directory = Path.Combine(Path.GetTempPath(), "sim-cert-" + Guid.NewGuid().ToString("N"));
        var path = Path.Combine(directory, "nested", "simulator.pem");
        try
        {
            await using (var sim = await SimulatorHost.StartAsync(
                new SimulatorOptions { CertificatePath = path, CertificateHostNames = ["simulator"] }, ct))
            {
                var pem = await File.ReadAllTextAsync(path, ct);
                var fromFile = X509Certificate2.CreateFromPem(pem);

                Assert.Equal(path, sim.CertificatePath);
                Assert.Equal(1, CountOccurrences(pem, "-----BEGIN CERTIFICATE-----"));
                Assert.DoesNotContain("PRIVATE KEY", pem, StringComparison.Ordinal);
                Assert.Equal(sim.Certificate.Thumbprint, fromFile.Thumbprint);

                var san = fromFile.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
                Assert.Equal(["localhost", "simulator"], san.EnumerateDnsNames().Order(StringComparer.Ordinal));
                Assert.Equal([IPAddress.Loopback, IPAddress.IPv6Loopback], san.EnumerateIPAddresses());
                var eku = fromFile.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single();
                Assert.Equal("1.3.6.1.5.5.7.3.1", eku.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Single().Value);

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(fromFile);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                Assert.True(chain.Build(fromFile), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));

                using var untrusted = new X509Chain();
                untrusted.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                untrusted.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                Assert.False(untrusted.Build(fromFile));
            }

            Assert.True(File.Exists(path), "an explicit certificate path is kept after stop");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Start_ExposesFourDistinctListenerUrls()
    {
        var ct = TestContext.Current.CancellationToken;
        string temporaryPem;
        await using (var sim = await SimulatorHost.StartAsync(new SimulatorOptions(), ct))
        {
            var urls = new[] { sim.ApnsProductionUrl, sim.ApnsSandboxUrl, sim.FcmUrl, sim.ControlUrl };

            Assert.All(urls.Take(3), u => Assert.Equal("https", u.Scheme));
            Assert.Equal("http", sim.ControlUrl.Scheme);
            Assert.All(urls, u => Assert.Equal("127.0.0.1", u.Host));
            Assert.All(urls, u => Assert.Equal("/", u.AbsolutePath));
            Assert.Equal(4, urls.Select(u => u.Port).Distinct().Count());
            Assert.Equal(new Uri(sim.FcmUrl, "token"), sim.FcmTokenUrl);
            temporaryPem = sim.CertificatePath;
            Assert.True(File.Exists(temporaryPem));
        }

        Assert.False(File.Exists(temporaryPem), "a temporary certificate file is removed on dispose");
    }

    [Fact]
    public async Task Start_CertificateCoversLocalhostByName()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        var viaName = new UriBuilder(t.Sim.ApnsProductionUrl) { Host = "localhost" }.Uri;
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(viaName, "3/device/" + ApnsTestContext.Token))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new StringContent("""{"aps":{}}"""),
        };
        request.Headers.TryAddWithoutValidation("authorization", "bearer " + t.Jwt());
        request.Headers.TryAddWithoutValidation("apns-topic", ApnsTestContext.Topic);

        var reply = await ApnsReply.SendAsync(t.Client, request, ct);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
    }

    [Fact]
    public async Task Start_WithPublicFcmUrl_WritesItAsTokenUri()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var sim = await SimulatorHost.StartAsync(new SimulatorOptions { PublicFcmUrl = "https://simulator:4443/" }, ct);

        var account = sim.State.AddFcmServiceAccount(new FcmServiceAccountRequest { ProjectId = "p" });

        using var json = JsonDocument.Parse(account.ServiceAccountJson!);
        Assert.Equal("https://simulator:4443/token", json.RootElement.GetProperty("token_uri").GetString());
    }

    [Fact]
    public async Task Dispose_ReleasesHangingRequestsQuickly()
    {
        var ct = TestContext.Current.CancellationToken;
        var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        t.State.SetTokenBehavior(ApnsTestContext.Token, new TokenBehavior { Preset = TokenPresets.Hang });
        var hanging = t.SendAsync(cancellationToken: ct);
        Assert.True(await Eventually.TrueAsync(() => t.State.GetReceived().Total == 1, cancellationToken: ct));

        // Only the simulator stops; the client stays up to see what its request gets.
        var watch = Stopwatch.StartNew();
        await t.Sim.DisposeAsync();
        watch.Stop();
        var failure = await Record.ExceptionAsync(() => hanging);
        await t.DisposeAsync();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"stopped after {watch.Elapsed}");
        Assert.IsType<HttpRequestException>(failure); // a transport failure, never an (empty) answer
    }

    [Fact]
    public void ReadOptions_UsesContractDefaultsAndTheSimulatorSection()
    {
        var defaults = SimulatorProgram.ReadOptions(new ConfigurationBuilder().Build().GetSection("Simulator"));
        var configured = SimulatorProgram.ReadOptions(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Simulator:Host"] = "0.0.0.0",
            ["Simulator:ApnsProductionPort"] = "12197",
            ["Simulator:ApnsSandboxPort"] = "12198",
            ["Simulator:FcmPort"] = "14443",
            ["Simulator:ControlPort"] = "14480",
            ["Simulator:CertificatePath"] = "/certs/sim.pem",
            ["Simulator:CertificateHostNames"] = "localhost,simulator",
            ["Simulator:MaxConcurrentStreams"] = "500",
            ["Simulator:RecordRequests"] = "false",
            ["Simulator:PublicFcmUrl"] = "https://simulator:4443",
        }).Build().GetSection("Simulator"));
        var arrayForm = SimulatorProgram.ReadOptions(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Simulator:CertificateHostNames:0"] = "simulator",
            ["Simulator:CertificateHostNames:1"] = "push.test",
        }).Build().GetSection("Simulator"));

        Assert.Equal(("127.0.0.1", 2197, 2198, 4443, 4480), (defaults.Host, defaults.ApnsProductionPort, defaults.ApnsSandboxPort, defaults.FcmPort, defaults.ControlPort));
        Assert.Equal((".simulator/simulator.pem", 1000, true, (string?)null), (defaults.CertificatePath, defaults.MaxConcurrentStreams, defaults.RecordRequests, defaults.PublicFcmUrl));
        Assert.Equal(("0.0.0.0", 12197, 12198, 14443, 14480), (configured.Host, configured.ApnsProductionPort, configured.ApnsSandboxPort, configured.FcmPort, configured.ControlPort));
        Assert.Equal(("/certs/sim.pem", 500, false, "https://simulator:4443"), (configured.CertificatePath, configured.MaxConcurrentStreams, configured.RecordRequests, configured.PublicFcmUrl));
        Assert.Equal(["localhost", "simulator"], configured.CertificateHostNames);
        Assert.Equal(["simulator", "push.test"], arrayForm.CertificateHostNames);
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
