using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace PushGateway.Data.Configurations;

internal sealed class MessageConfiguration : IEntityTypeConfiguration<Message>
{
    public void Configure(EntityTypeBuilder<Message> builder)
    {
        builder.ToTable("messages");
        builder.Property(m => m.Id).ValueGeneratedNever();
        builder.Property(m => m.TargetKind).HasMaxLength(16);
        builder.Property(m => m.Target).HasColumnType("json");
        builder.Property(m => m.IdempotencyKey).HasMaxLength(255);
        builder.Property(m => m.ApnsPushType).HasMaxLength(32);
        builder.Property(m => m.ApnsTopic).HasMaxLength(255);
        builder.Property(m => m.CollapseKey).HasMaxLength(255);
        builder.Property(m => m.FcmMessage).HasColumnType("json");
        builder.HasIndex(m => new { m.ProjectId, m.Id });
        // No foreign key to projects (as deliveries have none): its check locked the project's row once per message,
        // 500 times in a batch request (a third of the accepting statement's time), and several concurrent senders of
        // one project made that lock a multixact. Nothing deletes projects; retention deletes messages by age.
    }
}

internal sealed class DeliveryConfiguration : IEntityTypeConfiguration<Delivery>
{
    public void Configure(EntityTypeBuilder<Delivery> builder)
    {
        builder.ToTable("deliveries");
        builder.Property(d => d.Id).UseIdentityAlwaysColumn();
        builder.Property(d => d.State).HasMaxLength(16);
        builder.Property(d => d.ProviderReason).HasMaxLength(500);
        builder.Property(d => d.ProviderId).HasMaxLength(255);
        builder.Property(d => d.ProviderUniqueId).HasMaxLength(255);
        // The queue: due pending rows, oldest first; (next_attempt_at, id) so that claims can walk it with a keyset
        // cursor instead of wading through the entries of rows already done every time.
        builder.HasIndex(d => new { d.NextAttemptAt, d.Id }).HasFilter("state = 'pending'").HasDatabaseName("ix_deliveries_due");
        // Held rows of an application, released when it is fixed.
        builder.HasIndex(d => d.ApplicationId).HasFilter("state = 'held'").HasDatabaseName("ix_deliveries_held");
        // No index on message_id: a message's receipts are read by primary key within the message's id range
        // (messages.first_delivery_id..last_delivery_id), which keeps every insert and result write one index lighter.
        // No foreign keys: a receipt outlives a deleted endpoint, the worker skips deliveries whose application or
        // message is gone, and a per-row foreign-key check would double the cost of a 100,000-row fan-out insert.
    }
}

internal sealed class MessageCountConfiguration : IEntityTypeConfiguration<MessageCount>
{
    public void Configure(EntityTypeBuilder<MessageCount> builder)
    {
        builder.ToTable("message_counts");
        builder.HasKey(c => new { c.MessageId, c.Slot });
        // Updated in place many times a second during a fan-out, never on an indexed column: room on each page keeps
        // those updates heap-only.
        builder.HasStorageParameter("fillfactor", 50);
        // Gone with its message (project deletion, retention).
        builder.HasOne<Message>().WithMany().HasForeignKey(c => c.MessageId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class MessageExpansionConfiguration : IEntityTypeConfiguration<MessageExpansion>
{
    public void Configure(EntityTypeBuilder<MessageExpansion> builder)
    {
        builder.ToTable("message_expansions");
        builder.HasKey(x => x.MessageId);
        // Gone with its message (project deletion).
        builder.HasOne<Message>().WithMany().HasForeignKey(x => x.MessageId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class IdempotencyRecordConfiguration : IEntityTypeConfiguration<IdempotencyRecord>
{
    public void Configure(EntityTypeBuilder<IdempotencyRecord> builder)
    {
        builder.ToTable("idempotency_keys");
        builder.HasKey(r => new { r.ProjectId, r.Key });
        builder.Property(r => r.Key).HasMaxLength(255);
        builder.Property(r => r.RequestHash).HasMaxLength(64);
        builder.Property(r => r.Response).HasColumnType("json");
        builder.HasIndex(r => r.CreatedAt);
        builder.HasOne<Project>().WithMany().HasForeignKey(r => r.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}
