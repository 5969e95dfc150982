using System.Security.Cryptography;

namespace PushGateway.Hosting;

internal sealed class GatewayStartupException(string message) : Exception(message);

/// <summary>
/// Local mode: with no <c>ConnectionStrings__PushGateway</c>, the gateway runs its own PostgreSQL cluster from the
/// machine's server binaries (data under <c>.pushgateway/</c>, reused on the next start), generates an admin key and
/// an encryption key once and keeps them beside the data, applies migrations, and listens on 127.0.0.1:8080.
/// </summary>
internal static class LocalMode
{
    public const string DatabaseName = "pushgateway";

    public sealed record Settings(LocalPostgres Postgres, string DataDirectory, string AdminKey);

    public static async Task<Settings?> ApplyAsync(WebApplicationBuilder builder, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("PushGateway")))
        {
            return null;
        }

        var root = Path.GetFullPath(builder.Configuration[$"{GatewayOptions.SectionName}:DataDirectory"] ?? ".pushgateway");
        LocalPostgres postgres;
        try
        {
            postgres = await LocalPostgres.StartAsync(root, settings: null, stopOnDispose: true,
                message => Console.WriteLine($"[local mode] {message}"), cancellationToken);
            await postgres.EnsureDatabaseAsync(DatabaseName, cancellationToken);
        }
        catch (LocalPostgresUnavailableException ex)
        {
            throw new GatewayStartupException(
                "Local mode could not start PostgreSQL: " + ex.Message + Environment.NewLine +
                "Either install the PostgreSQL server (Debian/Ubuntu: apt-get install postgresql), " +
                "or point the gateway at a database with ConnectionStrings__PushGateway=\"Host=…;Database=…;Username=…;Password=…\" " +
                "(plus PushGateway__AdminKey and PushGateway__EncryptionKey), or run `docker compose up`.");
        }

        var adminKey = builder.Configuration[$"{GatewayOptions.SectionName}:AdminKey"]
            ?? await ReadOrCreateAsync(Path.Combine(root, "admin-key"), () => "pga_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)), cancellationToken);
        var encryptionKey = builder.Configuration[$"{GatewayOptions.SectionName}:EncryptionKey"]
            ?? await ReadOrCreateAsync(Path.Combine(root, "encryption-key"), () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), cancellationToken);

        var overrides = new Dictionary<string, string?>
        {
            ["ConnectionStrings:PushGateway"] = postgres.ConnectionString(DatabaseName),
            [$"{GatewayOptions.SectionName}:AdminKey"] = adminKey,
            [$"{GatewayOptions.SectionName}:EncryptionKey"] = encryptionKey,
            [$"{GatewayOptions.SectionName}:MigrateOnStart"] = "true",
        };
        // A developer's webhook receiver runs on this machine (loopback); production leaves private networks closed.
        if (string.IsNullOrEmpty(builder.Configuration["Events:AllowPrivateNetworks"]))
        {
            overrides["Events:AllowPrivateNetworks"] = "true";
        }

        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            overrides[WebHostDefaults.ServerUrlsKey] = "http://127.0.0.1:8080";
        }

        builder.Configuration.AddInMemoryCollection(overrides);
        return new Settings(postgres, root, adminKey);
    }

    private static async Task<string> ReadOrCreateAsync(string path, Func<string> create, CancellationToken cancellationToken)
    {
        if (File.Exists(path))
        {
            return (await File.ReadAllTextAsync(path, cancellationToken)).Trim();
        }

        var value = create();
        await SecretFile.WriteNewAsync(path, value + Environment.NewLine, cancellationToken);
        return value;
    }
}
