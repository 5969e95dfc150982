using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PushGateway.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class ReceiptsByDeliveryIdRange : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_deliveries_message_id_id",
                table: "deliveries");

            migrationBuilder.AddColumn<long>(
                name: "first_delivery_id",
                table: "messages",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "last_delivery_id",
                table: "messages",
                type: "bigint",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "first_delivery_id",
                table: "messages");

            migrationBuilder.DropColumn(
                name: "last_delivery_id",
                table: "messages");

            migrationBuilder.CreateIndex(
                name: "ix_deliveries_message_id_id",
                table: "deliveries",
                columns: new[] { "message_id", "id" });
        }
    }
}
