using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace PushGateway.Data.Configurations;

internal sealed class ProjectConfiguration : IEntityTypeConfiguration<Project>
{
    public void Configure(EntityTypeBuilder<Project> builder)
    {
        builder.ToTable("projects");
        builder.Property(p => p.Id).ValueGeneratedNever();
        builder.Property(p => p.Name).HasMaxLength(200);
    }
}

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> builder)
    {
        builder.ToTable("api_keys");
        builder.Property(k => k.Id).ValueGeneratedNever();
        builder.Property(k => k.Name).HasMaxLength(200);
        builder.Property(k => k.KeyHash).HasMaxLength(64);
        builder.Property(k => k.Prefix).HasMaxLength(16);
        builder.HasIndex(k => k.KeyHash).IsUnique();
        builder.HasIndex(k => k.ProjectId);
        builder.HasOne<Project>().WithMany().HasForeignKey(k => k.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ApplicationConfiguration : IEntityTypeConfiguration<Application>
{
    public void Configure(EntityTypeBuilder<Application> builder)
    {
        builder.ToTable("applications", t =>
        {
            t.HasCheckConstraint("ck_applications_platform", "platform IN ('apns', 'fcm')");
            t.HasCheckConstraint(
                "ck_applications_environment",
                "(platform = 'apns' AND environment IN ('production', 'sandbox')) OR (platform = 'fcm' AND environment IS NULL)");
        });
        builder.Property(a => a.Id).ValueGeneratedNever();
        builder.Property(a => a.Name).HasMaxLength(200);
        builder.Property(a => a.Platform).HasMaxLength(8);
        builder.Property(a => a.Environment).HasMaxLength(16);
        builder.Property(a => a.CredentialsType).HasMaxLength(32);
        builder.Property(a => a.CredentialsInfo).HasColumnType("jsonb");
        builder.Property(a => a.DisabledReason).HasMaxLength(500);
        builder.Property(a => a.EventsUrl).HasMaxLength(2048);
        builder.HasIndex(a => new { a.ProjectId, a.Id });
        builder.HasOne<Project>().WithMany().HasForeignKey(a => a.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class EndpointConfiguration : IEntityTypeConfiguration<PlatformEndpoint>
{
    public void Configure(EntityTypeBuilder<PlatformEndpoint> builder)
    {
        builder.ToTable("endpoints");
        builder.Property(e => e.Id).ValueGeneratedNever();
        builder.Property(e => e.Token).HasMaxLength(4096);
        builder.Property(e => e.CustomUserData).HasMaxLength(2048);
        builder.Property(e => e.UserId).HasMaxLength(256);
        builder.Property(e => e.DisabledReason).HasMaxLength(500);
        // One endpoint per (application, token), enforced by the database so concurrent registrations converge.
        builder.HasIndex(e => new { e.ApplicationId, e.Token }).IsUnique();
        // Keyset pagination inside an application.
        builder.HasIndex(e => new { e.ApplicationId, e.Id });
        builder.HasIndex(e => new { e.ProjectId, e.UserId }).HasFilter("user_id IS NOT NULL");
        // The console's "token or its beginning" search: LIKE 'prefix%' inside a project, whatever the collation.
        builder.HasIndex(e => new { e.ProjectId, e.Token }).HasOperators("uuid_ops", "text_pattern_ops").HasDatabaseName("ix_endpoints_project_id_token_prefix");
        builder.HasOne<Application>().WithMany().HasForeignKey(e => e.ApplicationId).OnDelete(DeleteBehavior.Cascade);
        // No foreign key to projects: the application's key already ties an endpoint to a project (its project_id
        // is always its application's), and the check locked the project's row for every endpoint inserted, shared
        // as a multixact by all of a project's concurrent registrations (+7% created registrations without it, four
        // interleaved pairs). Nothing deletes projects; an application's endpoints go with it.
    }
}

internal sealed class TopicConfiguration : IEntityTypeConfiguration<Topic>
{
    public void Configure(EntityTypeBuilder<Topic> builder)
    {
        builder.ToTable("topics");
        builder.Property(t => t.Id).ValueGeneratedNever();
        builder.Property(t => t.Name).HasMaxLength(256);
        builder.HasIndex(t => new { t.ProjectId, t.Name }).IsUnique();
        builder.HasOne<Project>().WithMany().HasForeignKey(t => t.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class TopicSubscriptionConfiguration : IEntityTypeConfiguration<TopicSubscription>
{
    public void Configure(EntityTypeBuilder<TopicSubscription> builder)
    {
        builder.ToTable("topic_subscriptions");
        builder.HasKey(s => new { s.TopicId, s.EndpointId });
        builder.HasIndex(s => s.EndpointId);
        builder.HasOne<Topic>().WithMany().HasForeignKey(s => s.TopicId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<PlatformEndpoint>().WithMany().HasForeignKey(s => s.EndpointId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class OutboxEventConfiguration : IEntityTypeConfiguration<OutboxEvent>
{
    public void Configure(EntityTypeBuilder<OutboxEvent> builder)
    {
        builder.ToTable("events");
        builder.HasKey(e => e.Sequence);
        builder.Property(e => e.Sequence).UseIdentityAlwaysColumn();
        builder.HasIndex(e => e.Id).IsUnique();
        builder.Property(e => e.Type).HasMaxLength(32);
        builder.Property(e => e.State).HasMaxLength(16);
        // json, not jsonb: the webhook body keeps the exact text (and key order) it was written with.
        builder.Property(e => e.Payload).HasColumnType("json");
        builder.Property(e => e.LastError).HasMaxLength(1000);
        // The dispatcher's claim: pending events in order.
        builder.HasIndex(e => new { e.NextAttemptAt, e.Sequence }).HasFilter("state = 'pending'");
        // The webhook dispatcher's line per endpoint: "is an earlier event of this endpoint still pending?"
        builder.HasIndex(e => new { e.EndpointId, e.Sequence }).HasFilter("state = 'pending'");
        builder.HasIndex(e => new { e.ApplicationId, e.Sequence });
        builder.HasOne<Application>().WithMany().HasForeignKey(e => e.ApplicationId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DataProtectionKeyConfiguration : IEntityTypeConfiguration<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey> builder) =>
        builder.ToTable("data_protection_keys");
}
