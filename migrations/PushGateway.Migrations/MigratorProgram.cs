using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection;

namespace PushGateway.Migrations;

/// <summary>
/// The run-once migrator (docker compose runs it before the gateway): applies pending migrations to
/// <c>ConnectionStrings__PushGateway</c> and exits 0, or exits 1 with the reason.
/// </summary>
public static class MigratorProgram
{
    public static async Task<int> Main(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        using var host = builder.Build();
        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PushGateway.Migrator");
        var connectionString = builder.Configuration.GetConnectionString("PushGateway");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            logger.LogError("ConnectionStrings__PushGateway is not set; nothing to migrate.");
            return 1;
        }

        // The database may still be starting (compose): retry the connection for a while.
        var deadline = DateTimeOffset.UtcNow.AddMinutes(2);
        while (true)
        {
            try
            {
                var applied = await DatabaseMigrator.MigrateAsync(connectionString, CancellationToken.None);
                logger.LogInformation("Database is up to date ({Count} migration(s) applied: {Names}).",
                    applied.Count, string.Join(", ", applied));
                return 0;
            }
            catch (Npgsql.NpgsqlException ex) when (ex.IsTransient && DateTimeOffset.UtcNow < deadline)
            {
                logger.LogWarning("Database not reachable yet ({Message}); retrying.", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(2));
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Migration failed.");
                return 1;
            }
        }
    }
}
