using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using PushGateway.Data;

#nullable disable

namespace PushGateway.Migrations.Migrations
{
    /// <summary>
    /// Messages no longer reference their project with a foreign key, like deliveries: the check took a lock on the
    /// project's row for every message inserted (500 per batch request), a third of the accepting statement's time.
    /// </summary>
    [DbContext(typeof(PushGatewayDbContext))]
    [Migration("20261203150000_DropMessagesProjectForeignKey")]
    public partial class DropMessagesProjectForeignKey : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_messages_projects_project_id",
                table: "messages");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddForeignKey(
                name: "fk_messages_projects_project_id",
                table: "messages",
                column: "project_id",
                principalTable: "projects",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);
        }
    }
}
