using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PushGateway.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class AddSnsCredentials : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "sns_credentials",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    project_id = table.Column<Guid>(type: "uuid", nullable: false),
                    access_key_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    secret_ciphertext = table.Column<byte[]>(type: "bytea", nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    revoked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_sns_credentials", x => x.id);
                    table.ForeignKey(
                        name: "fk_sns_credentials_projects_project_id",
                        column: x => x.project_id,
                        principalTable: "projects",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_sns_credentials_access_key_id",
                table: "sns_credentials",
                column: "access_key_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_sns_credentials_project_id",
                table: "sns_credentials",
                column: "project_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "sns_credentials");
        }
    }
}
