using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PushGateway.Hosting;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Operations;

/// <summary>
/// The README's promise: with no configuration the gateway starts its own PostgreSQL from the machine's binaries
/// (as an unprivileged user when run as root), migrates, generates an admin key, and keeps everything for the next start.
/// </summary>
public sealed class LocalModeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task LocalMode_StartsPostgres_GeneratesKeys_AndKeepsDataAcrossRestarts()
    {
        var root = Path.Combine(Path.GetTempPath(), "pushgateway-local-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            Guid projectId;
            string adminKey;
            await using (var first = await StartAsync(root))
            {
                adminKey = (await File.ReadAllTextAsync(Path.Combine(root, "admin-key"), Ct)).Trim();
                Assert.StartsWith("pga_", adminKey, StringComparison.Ordinal);
                Assert.True(File.Exists(Path.Combine(root, "encryption-key")));
                Assert.True(File.Exists(Path.Combine(root, "pgdata", "PG_VERSION")));

                using var client = Client(first, adminKey);
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("readyz", Ct)).StatusCode);
                var created = await client.PostAsJsonAsync("v1/projects", new { name = "kept" }, Ct);
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
                projectId = (await created.ReadObjectAsync(Ct)).Id();
                await first.StopAsync(Ct);
            }

            await using (var second = await StartAsync(root))
            {
                Assert.Equal(adminKey, (await File.ReadAllTextAsync(Path.Combine(root, "admin-key"), Ct)).Trim());
                using var client = Client(second, adminKey);
                var project = await client.GetFromJsonAsync<JsonObject>($"v1/projects/{projectId}", Ct);
                Assert.Equal("kept", project!["name"].Str());
                await second.StopAsync(Ct);
            }
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<Microsoft.AspNetCore.Builder.WebApplication> StartAsync(string root)
    {
        var app = await GatewayApp.BuildAsync([], builder => builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PushGateway:DataDirectory"] = root,
            ["urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
        }), CancellationToken.None);
        await app.StartAsync(Ct);
        return app;
    }

    private static HttpClient Client(Microsoft.AspNetCore.Builder.WebApplication app, string key)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var client = new HttpClient { BaseAddress = new Uri(address + "/") };
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        return client;
    }
}
