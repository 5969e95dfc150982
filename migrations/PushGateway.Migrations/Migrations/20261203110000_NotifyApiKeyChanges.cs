using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using PushGateway.Data;

#nullable disable

namespace PushGateway.Migrations.Migrations
{
    /// <summary>
    /// Every replica caches the API keys it has looked up; a revoked (or deleted) key is announced on the channel
    /// <c>pushgateway_api_keys</c> with its hash as the payload, delivered at commit, so each replica forgets it at
    /// once. No change to the model.
    /// </summary>
    [DbContext(typeof(PushGatewayDbContext))]
    [Migration("20261203110000_NotifyApiKeyChanges")]
    public partial class NotifyApiKeyChanges : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE FUNCTION pushgateway_notify_api_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('pushgateway_api_keys', OLD.key_hash);
                    RETURN NULL;
                END
                $$;
                CREATE TRIGGER api_keys_notify_change AFTER UPDATE OR DELETE ON api_keys
                    FOR EACH ROW EXECUTE FUNCTION pushgateway_notify_api_key_change();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER IF EXISTS api_keys_notify_change ON api_keys;
                DROP FUNCTION IF EXISTS pushgateway_notify_api_key_change();
                """);
        }
    }
}
