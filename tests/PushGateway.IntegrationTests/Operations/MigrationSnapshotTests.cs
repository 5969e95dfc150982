using Microsoft.EntityFrameworkCore;
using PushGateway.Data;

namespace PushGateway.IntegrationTests.Operations;

/// <summary>
/// The EF model and the migrations' snapshot agree: a model change without its migration (or a hand-written
/// migration whose snapshot edit was forgotten) would make the next <c>dotnet ef migrations add</c> re-create what a
/// migration removed, such as a dropped foreign key.
/// </summary>
public sealed class MigrationSnapshotTests
{
    [Fact]
    public void TheModelHasNoChangeWithoutAMigration()
    {
        var options = (DbContextOptions<PushGatewayDbContext>)PushGatewayDbContext.Configure(
            new DbContextOptionsBuilder<PushGatewayDbContext>(), "Host=unused.invalid").Options;
        using var db = new PushGatewayDbContext(options);

        Assert.False(db.Database.HasPendingModelChanges(), "the model differs from the migrations' snapshot: add a migration");
    }
}
