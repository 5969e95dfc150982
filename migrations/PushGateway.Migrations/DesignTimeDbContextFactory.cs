using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using PushGateway.Data;

namespace PushGateway.Migrations;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running database.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<PushGatewayDbContext>
{
    public PushGatewayDbContext CreateDbContext(string[] args)
    {
        var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__PushGateway")
            ?? "Host=127.0.0.1;Database=pushgateway_design;Username=postgres";
        var options = PushGatewayDbContext.Configure(new DbContextOptionsBuilder<PushGatewayDbContext>(), connectionString).Options;
        return new PushGatewayDbContext((DbContextOptions<PushGatewayDbContext>)options);
    }
}
