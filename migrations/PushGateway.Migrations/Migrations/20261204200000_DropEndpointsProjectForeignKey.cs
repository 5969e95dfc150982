using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using PushGateway.Data;

#nullable disable

namespace PushGateway.Migrations.Migrations
{
    /// <summary>
    /// Endpoints no longer reference their project with a foreign key (their application's does): the check locked
    /// the project's row for every endpoint inserted, a multixact shared by all of a project's concurrent
    /// registrations. The endpoints keep their foreign key to applications (an application's endpoints go with it).
    /// </summary>
    [DbContext(typeof(PushGatewayDbContext))]
    [Migration("20261204200000_DropEndpointsProjectForeignKey")]
    public partial class DropEndpointsProjectForeignKey : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_endpoints_projects_project_id",
                table: "endpoints");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddForeignKey(
                name: "fk_endpoints_projects_project_id",
                table: "endpoints",
                column: "project_id",
                principalTable: "projects",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);
        }
    }
}
