using Npgsql;
using NpgsqlTypes;

namespace PushGateway.WebConsole;

internal sealed record EndpointHit(Guid Id, Guid ApplicationId, string ApplicationName, string Token, bool Enabled, string? UserId, DateTimeOffset TokenUpdatedAt);

internal sealed record ApplicationQueue(long Pending, long Held, double OldestDueSeconds);

internal sealed record OutcomeBucket(DateTimeOffset Start, long Delivered, long Failed, long Expired, long Skipped, long Pending)
{
    public long Total => Delivered + Failed + Expired + Skipped + Pending;
}

internal sealed record RecentDelivery(Guid MessageId, string State, int Attempts, DateTimeOffset? LastAttemptAt, int? ProviderStatus, string? ProviderReason, string? ProviderId);

/// <summary>
/// The reads only the console needs (the REST API has no search or overview). Each one is an indexed lookup or a
/// bounded range, so a page stays fast with hundreds of thousands of endpoints and deliveries.
/// </summary>
internal sealed class ConsoleQueries(NpgsqlDataSource dataSource)
{
    public const int SearchLimit = 50;

    /// <summary>How far back an endpoint's latest deliveries are looked for (deliveries have no index by endpoint).</summary>
    public const int RecentDeliveryWindow = 100_000;

    /// <summary>
    /// An endpoint id, a user id, or a token or its beginning, inside the project: the primary key, ix_endpoints_project_id_user_id
    /// and ix_endpoints_project_id_token_prefix (text_pattern_ops, so LIKE 'prefix%' is a range scan whatever the collation).
    /// </summary>
    public async Task<IReadOnlyList<EndpointHit>> SearchEndpointsAsync(Guid projectId, string query, CancellationToken cancellationToken)
    {
        query = query.Trim();
        if (query.Length == 0)
        {
            return [];
        }

        await using var command = dataSource.CreateCommand("""
            SELECT e.id, e.application_id, a.name, e.token, e.enabled, e.user_id, e.token_updated_at
            FROM (
                (SELECT * FROM endpoints WHERE project_id = @p AND id = @id)
                UNION
                (SELECT * FROM endpoints WHERE project_id = @p AND user_id = @q LIMIT @n)
                UNION
                (SELECT * FROM endpoints WHERE project_id = @p AND (token LIKE @prefix OR token LIKE @lower) LIMIT @n)
            ) e JOIN applications a ON a.id = e.application_id
            ORDER BY e.id LIMIT @n
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid>("p", projectId));
        command.Parameters.Add(new NpgsqlParameter("id", NpgsqlDbType.Uuid) { Value = Guid.TryParse(query, out var id) ? id : DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter<string>("q", query));
        command.Parameters.Add(new NpgsqlParameter<string>("prefix", EscapeLike(query) + "%"));
        command.Parameters.Add(new NpgsqlParameter<string>("lower", EscapeLike(query.ToLowerInvariant()) + "%"));
        command.Parameters.Add(new NpgsqlParameter<int>("n", SearchLimit));
        var hits = new List<EndpointHit>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            hits.Add(new EndpointHit(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetBoolean(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetFieldValue<DateTimeOffset>(6)));
        }

        return hits;
    }

    /// <summary>Counts above this are shown as "at least": counting stops there, so a deep queue costs no more.</summary>
    public const int QueueCountCap = 10_000;

    /// <summary>The most recent messages of the hour the chart looks at, and how many deliveries of each it reads at most.</summary>
    public const int ChartMessages = 100;
    public const int ChartSamplePerMessage = 500;

    /// <summary>
    /// Pending and held deliveries per application (each count stops at <see cref="QueueCountCap"/>) and how long the
    /// oldest due one has waited, for all of the page's applications in one statement. Pending ones are read by walking
    /// the partial due index ix_deliveries_due in due order (the first row an application has there is its oldest), held
    /// ones from ix_deliveries_held: the cost follows the queue, never the delivery history. Deliveries have no index by
    /// application and pending state (it would cost every send), so the planner is kept off a sequential scan of the
    /// whole table, which it picks when an application is estimated to have many rows: 161 ms for one application over
    /// 1.1 million deliveries, against 27 ms for two by the walk (100,000 of them pending).
    /// </summary>
    public async Task<IReadOnlyDictionary<Guid, ApplicationQueue>> QueuesAsync(IReadOnlyCollection<Guid> applicationIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var queues = new Dictionary<Guid, ApplicationQueue>();
        if (applicationIds.Count == 0)
        {
            return queues;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var pin = new NpgsqlCommand("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off", connection, transaction))
        {
            await pin.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var command = new NpgsqlCommand(QueueSql, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<Guid[]>("apps", applicationIds.ToArray()));
            command.Parameters.Add(new NpgsqlParameter<int>("cap", QueueCountCap));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var oldestPending = reader.IsDBNull(2) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(2);
                var oldestDue = oldestPending is { } at && at <= now ? (now - at).TotalSeconds : 0;
                queues[reader.GetGuid(0)] = new ApplicationQueue(reader.GetInt64(1), reader.GetInt64(3), oldestDue);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return queues;
    }

    internal const string QueueSql = """
        SELECT a.id, p.n, p.oldest, h.n
        FROM unnest(@apps) AS a(id)
        CROSS JOIN LATERAL (
            SELECT count(*) AS n, min(x.next_attempt_at) AS oldest
            FROM (SELECT d.next_attempt_at FROM deliveries d WHERE d.state = 'pending' AND d.application_id = a.id
                  ORDER BY d.next_attempt_at, d.id LIMIT @cap) x) p
        CROSS JOIN LATERAL (
            SELECT count(*) AS n
            FROM (SELECT 1 FROM deliveries d WHERE d.state = 'held' AND d.application_id = a.id LIMIT @cap) y) h
        """;

    /// <summary>
    /// Deliveries of the messages sent in the last hour, by outcome, in 5-minute buckets of sending time. Messages have
    /// time-ordered ids (UUIDv7), so "the last hour" is a range of ix_messages_project_id_id; of each of the latest
    /// <see cref="ChartMessages"/> messages at most <see cref="ChartSamplePerMessage"/> deliveries are read by primary
    /// key, evenly spaced over its id range, and counted for the ones they stand for (exact for smaller messages).
    /// </summary>
    public async Task<IReadOnlyList<OutcomeBucket>> LastHourAsync(Guid projectId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var since = now.AddHours(-1);
        var start = new DateTimeOffset(since.Ticks - since.Ticks % TimeSpan.FromMinutes(5).Ticks, TimeSpan.Zero);
        var buckets = new Dictionary<long, long[]>();
        await using (var command = dataSource.CreateCommand("""
            WITH m AS (
                SELECT id, created_at, first_delivery_id AS f, last_delivery_id AS l,
                       greatest(1, (last_delivery_id - first_delivery_id + 1) / @sample) AS step
                FROM messages
                WHERE project_id = @p AND id >= @lowest AND created_at >= @start AND first_delivery_id IS NOT NULL
                ORDER BY id DESC LIMIT @messages)
            SELECT floor(extract(epoch FROM m.created_at - @start) / 300)::bigint, d.state, sum(m.step)::bigint
            FROM m CROSS JOIN LATERAL generate_series(m.f, m.l, m.step) s(id)
            JOIN deliveries d ON d.id = s.id AND d.message_id = m.id
            GROUP BY 1, 2
            """))
        {
            command.Parameters.Add(new NpgsqlParameter<Guid>("p", projectId));
            command.Parameters.Add(new NpgsqlParameter<Guid>("lowest", LowestVersion7(start)));
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("start", start));
            command.Parameters.Add(new NpgsqlParameter<long>("sample", ChartSamplePerMessage));
            command.Parameters.Add(new NpgsqlParameter<int>("messages", ChartMessages));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var counts = buckets.TryGetValue(reader.GetInt64(0), out var c) ? c : buckets[reader.GetInt64(0)] = new long[5];
                var index = reader.GetString(1) switch { "delivered" => 0, "failed" => 1, "expired" => 2, "skipped" => 3, _ => 4 };
                counts[index] += reader.GetInt64(2);
            }
        }

        var result = new List<OutcomeBucket>();
        for (long i = 0; start.AddMinutes(5 * i) <= now; i++)
        {
            var c = buckets.TryGetValue(i, out var found) ? found : new long[5];
            result.Add(new OutcomeBucket(start.AddMinutes(5 * i), c[0], c[1], c[2], c[3], c[4]));
        }

        return result;
    }

    /// <summary>The endpoint's topics (ix_topic_subscriptions_endpoint_id).</summary>
    public async Task<IReadOnlyList<string>> TopicsAsync(Guid endpointId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT t.name FROM topic_subscriptions s JOIN topics t ON t.id = s.topic_id WHERE s.endpoint_id = @e ORDER BY t.name LIMIT 200");
        command.Parameters.Add(new NpgsqlParameter<Guid>("e", endpointId));
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    /// <summary>The endpoint's latest deliveries among the gateway's most recent <see cref="RecentDeliveryWindow"/> (a primary-key range).</summary>
    public async Task<IReadOnlyList<RecentDelivery>> RecentDeliveriesAsync(Guid endpointId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT message_id, state, attempts, last_attempt_at, provider_status, provider_reason, provider_id
            FROM deliveries
            WHERE id > (SELECT coalesce(max(id), 0) FROM deliveries) - @window AND endpoint_id = @e
            ORDER BY id DESC LIMIT 10
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid>("e", endpointId));
        command.Parameters.Add(new NpgsqlParameter<long>("window", RecentDeliveryWindow));
        var items = new List<RecentDelivery>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var state = reader.GetString(1);
            items.Add(new RecentDelivery(reader.GetGuid(0), state == "held" ? "pending" : state, reader.GetInt32(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3),
                reader.IsDBNull(4) ? null : reader.GetInt32(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6)));
        }

        return items;
    }

    private static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    /// <summary>The smallest UUIDv7 of a millisecond: the first 48 bits are the Unix time in milliseconds.</summary>
    internal static Guid LowestVersion7(DateTimeOffset time)
    {
        var hex = time.ToUnixTimeMilliseconds().ToString("x12", System.Globalization.CultureInfo.InvariantCulture);
        return Guid.Parse($"{hex[..8]}-{hex[8..]}-7000-8000-000000000000");
    }
}
