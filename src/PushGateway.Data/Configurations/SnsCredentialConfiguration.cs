using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace PushGateway.Data.Configurations;

internal sealed class SnsCredentialConfiguration : IEntityTypeConfiguration<SnsCredential>
{
    public void Configure(EntityTypeBuilder<SnsCredential> builder)
    {
        builder.ToTable("sns_credentials");
        builder.Property(c => c.Id).ValueGeneratedNever();
        builder.Property(c => c.AccessKeyId).HasMaxLength(32);
        builder.Property(c => c.Name).HasMaxLength(200);
        builder.HasIndex(c => c.AccessKeyId).IsUnique();
        builder.HasIndex(c => c.ProjectId);
        builder.HasOne<Project>().WithMany().HasForeignKey(c => c.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}
