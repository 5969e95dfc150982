using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PushGateway.Hosting;

namespace PushGateway.IntegrationTests.Infrastructure;

/// <summary>
/// The real gateway (the same composition root as Program.cs) on a real Kestrel socket, over its own database.
/// Used as a class fixture: each test class gets a gateway and a database of its own.
/// </summary>
public class TestGateway : IAsyncLifetime
{
    public const string AdminKey = "test-admin-key-0123456789";
    public static readonly string EncryptionKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private WebApplication? _app;

    public string ConnectionString { get; private set; } = "";
    public Uri BaseAddress { get; private set; } = null!;
    public IServiceProvider Services => _app!.Services;

    /// <summary>A hook for subclasses that need more than settings (log capture, …).</summary>
    protected virtual void ConfigureBuilder(WebApplicationBuilder builder)
    {
    }

    /// <summary>A hook for subclasses that map extra (test-only) routes on the built application before it starts.</summary>
    protected virtual void ConfigureApp(WebApplication app)
    {
    }

    /// <summary>Extra configuration for subclasses (delivery settings, simulator URLs, …).</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    public virtual async ValueTask InitializeAsync() =>
        await StartAsync(await PostgresServer.Instance.CreateDatabaseAsync(CancellationToken.None));

    protected async Task StartAsync(string connectionString)
    {
        ConnectionString = connectionString;
        _app = await GatewayApp.BuildAsync([], builder =>
        {
            var settings = new Dictionary<string, string?>
            {
                ["ConnectionStrings:PushGateway"] = ConnectionString,
                ["PushGateway:AdminKey"] = AdminKey,
                ["PushGateway:EncryptionKey"] = EncryptionKey,
                ["urls"] = "http://127.0.0.1:0",
                ["Logging:LogLevel:Default"] = "Warning",
                // The tests' webhook receivers listen on 127.0.0.1; only loopback is ever connected to.
                ["Events:AllowPrivateNetworks"] = "true",
            };
            foreach (var (key, value) in Settings)
            {
                settings[key] = value;
            }

            builder.Configuration.AddInMemoryCollection(settings);
            ConfigureBuilder(builder);
        }, CancellationToken.None);
        ConfigureApp(_app);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address + "/");
    }

    public HttpClient Client(string? key = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    public HttpClient Admin() => Client(AdminKey);

    /// <summary>Creates a project and an API key for it; returns a client authenticated with that key.</summary>
    public async Task<ProjectContext> NewProjectAsync(CancellationToken cancellationToken)
    {
        using var admin = Admin();
        var project = await admin.PostAsJsonAsync("v1/projects", new { name = "p-" + Guid.NewGuid().ToString("N")[..8] }, cancellationToken);
        project.EnsureSuccessStatusCode();
        var projectId = (await project.Content.ReadFromJsonAsync<JsonObject>(cancellationToken))!["id"]!.GetValue<Guid>();
        var key = await admin.PostAsJsonAsync($"v1/projects/{projectId}/api-keys", new { name = "tests" }, cancellationToken);
        key.EnsureSuccessStatusCode();
        var keyBody = (await key.Content.ReadFromJsonAsync<JsonObject>(cancellationToken))!;
        return new ProjectContext(projectId, keyBody["id"]!.GetValue<Guid>(), keyBody["key"]!.GetValue<string>(), Client(keyBody["key"]!.GetValue<string>()));
    }

    /// <summary>Runs a scalar query against this gateway's database (tests check rows, not just responses).</summary>
    public async Task<T?> ScalarAsync<T>(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var result = await command.ExecuteScalarAsync(cancellationToken);
        return result is null or DBNull ? default : (T)Convert.ChangeType(result, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Row counts of every table: a cheap fingerprint for "nothing was written".</summary>
    public async Task<string> TableCountsAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '__EFMigrationsHistory' ORDER BY 1", connection))
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                tables.Add(reader.GetString(0));
            }
        }

        var counts = new List<string>();
        foreach (var table in tables)
        {
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM \"{table}\"", connection);
            counts.Add($"{table}={await count.ExecuteScalarAsync(cancellationToken)}");
        }

        return string.Join(",", counts);
    }

    public virtual async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}

public sealed record ProjectContext(Guid ProjectId, Guid KeyId, string Key, HttpClient Client);

public static class Json
{
    public static async Task<JsonObject> ReadObjectAsync(this HttpResponseMessage response, CancellationToken cancellationToken) =>
        (await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken))!;

    public static StringContent Raw(string json, string contentType = "application/json") =>
        new(json, System.Text.Encoding.UTF8, contentType);

    public static Guid Id(this JsonObject o, string name = "id") => o[name]!.GetValue<Guid>();

    public static string Str(this JsonNode? o) => o!.GetValue<string>();

    public static JsonElement Element(this JsonObject o) => JsonSerializer.SerializeToElement(o);
}
