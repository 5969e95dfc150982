using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace PushGateway.Data;

public sealed class PushGatewayDbContext(DbContextOptions<PushGatewayDbContext> options) : DbContext(options), IDataProtectionKeyContext
{
    /// <summary>The assembly that holds the migrations (the run-once migrator project).</summary>
    public const string MigrationsAssembly = "PushGateway.Migrations";

    public DbSet<Project> Projects => Set<Project>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<SnsCredential> SnsCredentials => Set<SnsCredential>();
    public DbSet<Application> Applications => Set<Application>();
    public DbSet<PlatformEndpoint> Endpoints => Set<PlatformEndpoint>();
    public DbSet<Topic> Topics => Set<Topic>();
    public DbSet<TopicSubscription> TopicSubscriptions => Set<TopicSubscription>();
    public DbSet<OutboxEvent> Events => Set<OutboxEvent>();
    public DbSet<Message> Messages => Set<Message>();
    public DbSet<Delivery> Deliveries => Set<Delivery>();
    public DbSet<MessageCount> MessageCounts => Set<MessageCount>();
    public DbSet<MessageExpansion> MessageExpansions => Set<MessageExpansion>();
    public DbSet<IdempotencyRecord> IdempotencyKeys => Set<IdempotencyRecord>();
    /// <summary>ASP.NET Core data-protection keys (console session cookies, antiforgery), shared by every replica.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    /// <summary>The one place that says how the context talks to PostgreSQL, used by the host, the migrator and the tests.</summary>
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder builder, NpgsqlDataSource dataSource) =>
        builder
            .UseNpgsql(dataSource, npgsql => npgsql.MigrationsAssembly(MigrationsAssembly))
            .UseSnakeCaseNamingConvention();

    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder builder, string connectionString) =>
        builder
            .UseNpgsql(connectionString, npgsql => npgsql.MigrationsAssembly(MigrationsAssembly))
            .UseSnakeCaseNamingConvention();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(PushGatewayDbContext).Assembly);
}
