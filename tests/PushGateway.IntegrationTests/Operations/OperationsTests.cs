using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Operations;

public sealed class OperationsTests(TestGateway gateway) : IClassFixture<TestGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Healthz_And_Readyz_AreOpenAndReady()
    {
        using var anonymous = gateway.Client();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("healthz", Ct)).StatusCode);
        var ready = await anonymous.GetAsync("readyz", Ct);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = await ready.ReadObjectAsync(Ct);
        Assert.Equal("ready", body["status"].Str());
        Assert.Empty(body["pendingMigrations"]!.AsArray());
    }

    [Fact]
    public async Task Readyz_OnUnmigratedDatabase_Returns503()
    {
        var emptyDb = "empty_" + Guid.NewGuid().ToString("N")[..8];
        await using (var admin = new NpgsqlConnection(PostgresServer.Instance.AdminConnectionString))
        {
            await admin.OpenAsync(Ct);
            await new NpgsqlCommand($"CREATE DATABASE {emptyDb}", admin).ExecuteNonQueryAsync(Ct);
        }

        await using var unmigrated = new UnmigratedGateway(PostgresServer.Instance.ConnectionString(emptyDb));
        await unmigrated.InitializeAsync();
        using var client = unmigrated.Client();
        var response = await client.GetAsync("readyz", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var body = await response.ReadObjectAsync(Ct);
        Assert.Equal("not-migrated", body["status"].Str());
        Assert.NotEmpty(body["pendingMigrations"]!.AsArray());
    }

    [Fact]
    public async Task OpenApi_DescribesEveryRoute()
    {
        using var anonymous = gateway.Client();
        var document = await anonymous.GetFromJsonAsync<JsonObject>("openapi/v1.json", Ct);
        Assert.StartsWith("3.1", document!["openapi"].Str(), StringComparison.Ordinal);
        var paths = document["paths"]!.AsObject();
        var expected = new Dictionary<string, string[]>
        {
            ["/v1/projects"] = ["post"],
            ["/v1/projects/{projectId}"] = ["get"],
            ["/v1/projects/{projectId}/api-keys"] = ["post"],
            ["/v1/projects/{projectId}/api-keys/{keyId}"] = ["delete"],
            ["/v1/applications"] = ["get", "post"],
            ["/v1/applications/{appId}"] = ["get", "patch", "delete"],
            ["/v1/applications/{appId}/endpoints"] = ["get", "post"],
            ["/v1/applications/{appId}/registrations"] = ["post"],
            ["/v1/endpoints/{endpointId}"] = ["get", "patch", "delete"],
            ["/v1/users/{userId}/endpoints"] = ["get", "delete"],
            ["/v1/users/{userId}/endpoints/{endpointId}"] = ["delete"],
            ["/v1/topics/{name}"] = ["put", "delete"],
            ["/v1/topics/{name}/subscriptions/{endpointId}"] = ["put", "delete"],
            ["/v1/topics/{name}/subscriptions"] = ["get"],
            ["/healthz"] = ["get"],
            ["/readyz"] = ["get"],
            ["/metrics"] = ["get"],
            ["/v1/messages"] = ["post"],
            ["/v1/messages/batch"] = ["post"],
            ["/v1/messages/{messageId}"] = ["get"],
            ["/v1/messages/{messageId}/deliveries"] = ["get"],
        };
        foreach (var (path, methods) in expected)
        {
            var key = paths.Select(p => p.Key).FirstOrDefault(k => k.TrimEnd('/') == path);
            Assert.True(key is not null, $"OpenAPI lacks {path}; has {string.Join(", ", paths.Select(p => p.Key))}");
            foreach (var method in methods)
            {
                Assert.True(paths[key]!.AsObject().ContainsKey(method), $"OpenAPI lacks {method.ToUpperInvariant()} {path}");
            }
        }
    }

    private sealed class UnmigratedGateway(string connectionString) : TestGateway
    {
        public override async ValueTask InitializeAsync() => await StartAsync(connectionString);
    }
}
