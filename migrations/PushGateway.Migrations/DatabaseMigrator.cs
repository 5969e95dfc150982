using Microsoft.EntityFrameworkCore;
using PushGateway.Data;

namespace PushGateway.Migrations;

/// <summary>Applies the EF Core migrations of this assembly. EF Core takes a database lock while it migrates, so
/// two migrators (or a migrator and a local-mode gateway) never race.</summary>
public static class DatabaseMigrator
{
    public static async Task<IReadOnlyList<string>> MigrateAsync(string connectionString, CancellationToken cancellationToken)
    {
        var options = PushGatewayDbContext.Configure(new DbContextOptionsBuilder<PushGatewayDbContext>(), connectionString).Options;
        await using var db = new PushGatewayDbContext((DbContextOptions<PushGatewayDbContext>)options);
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        await db.Database.MigrateAsync(cancellationToken);
        return pending;
    }
}
