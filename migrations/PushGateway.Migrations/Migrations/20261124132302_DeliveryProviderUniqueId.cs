using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PushGateway.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class DeliveryProviderUniqueId : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "provider_unique_id",
                table: "deliveries",
                type: "character varying(255)",
                maxLength: 255,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "provider_unique_id",
                table: "deliveries");
        }
    }
}
