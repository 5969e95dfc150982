using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PushGateway.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class AddMessageCounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "message_counts",
                columns: table => new
                {
                    message_id = table.Column<Guid>(type: "uuid", nullable: false),
                    slot = table.Column<short>(type: "smallint", nullable: false),
                    delivered = table.Column<long>(type: "bigint", nullable: false),
                    failed = table.Column<long>(type: "bigint", nullable: false),
                    expired = table.Column<long>(type: "bigint", nullable: false),
                    skipped = table.Column<long>(type: "bigint", nullable: false),
                    retried = table.Column<long>(type: "bigint", nullable: false),
                    last_completed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_message_counts", x => new { x.message_id, x.slot });
                    table.ForeignKey(
                        name: "fk_message_counts_messages_message_id",
                        column: x => x.message_id,
                        principalTable: "messages",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                })
                .Annotation("Npgsql:StorageParameter:fillfactor", 50);

            // Messages sent before the counters: their finished deliveries counted once, into slot 0 (through each
            // message's delivery id range, as receipts are read). Pending is derived, so only finished ones are stored.
            migrationBuilder.Sql("""
                INSERT INTO message_counts (message_id, slot, delivered, failed, expired, skipped, retried, last_completed_at)
                SELECT m.id, 0,
                       count(*) FILTER (WHERE d.state = 'delivered'),
                       count(*) FILTER (WHERE d.state = 'failed'),
                       count(*) FILTER (WHERE d.state = 'expired'),
                       count(*) FILTER (WHERE d.state = 'skipped'),
                       count(*) FILTER (WHERE d.state IN ('pending', 'held') AND d.attempts > 0),
                       max(d.completed_at)
                FROM messages m
                JOIN deliveries d ON d.id BETWEEN m.first_delivery_id AND m.last_delivery_id AND d.message_id = m.id
                GROUP BY m.id
                HAVING count(*) FILTER (WHERE d.state NOT IN ('pending', 'held') OR d.attempts > 0) > 0
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "message_counts");
        }
    }
}
