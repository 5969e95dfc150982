using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PushGateway.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class DropDeliveryMessageForeignKey : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_deliveries_messages_message_id",
                table: "deliveries");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddForeignKey(
                name: "fk_deliveries_messages_message_id",
                table: "deliveries",
                column: "message_id",
                principalTable: "messages",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);
        }
    }
}
