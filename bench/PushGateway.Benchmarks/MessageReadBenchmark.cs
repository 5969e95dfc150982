using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using Npgsql;
using PushGateway.Hosting;
using PushGateway.Migrations;
using PushGateway.Simulator;

namespace PushGateway.Benchmarks;

/// <summary>
/// Reading a big message while it drains: one topic message to N endpoints (seeded in SQL), and while the gateway
/// delivers it, <c>GET /v1/messages/{id}</c> and the console's message page timed call by call, next to the statement
/// the gateway used before the counters (a recount of every delivery row), run on the same data at the same time.
/// </summary>
internal static partial class MessageReadBenchmark
{
    /// <summary>What <c>GET /v1/messages/{id}</c> ran before the counters, for the "before" figure.</summary>
    private const string RecountSql = """
        SELECT m.created_at, m.expires_at, m.target_count,
               count(d.id) FILTER (WHERE d.state IN ('pending', 'held')),
               count(d.id) FILTER (WHERE d.state = 'delivered'),
               count(d.id) FILTER (WHERE d.state = 'failed'),
               count(d.id) FILTER (WHERE d.state = 'expired'),
               count(d.id) FILTER (WHERE d.state = 'skipped'),
               count(d.id) FILTER (WHERE d.attempts > 0 OR d.state NOT IN ('pending', 'held')),
               max(d.completed_at)
        FROM messages m LEFT JOIN deliveries d
            ON d.id BETWEEN m.first_delivery_id AND m.last_delivery_id AND d.message_id = m.id
        WHERE m.id = @id AND m.project_id = @p
        GROUP BY m.id
        """;

    /// <summary>What it runs now (as in MessagesEndpoints.GetAsync).</summary>
    private const string CountersSql = """
        SELECT m.created_at, m.expires_at, m.target_count,
               coalesce(sum(c.delivered), 0)::bigint, coalesce(sum(c.failed), 0)::bigint, coalesce(sum(c.expired), 0)::bigint,
               coalesce(sum(c.skipped), 0)::bigint, coalesce(sum(c.retried), 0)::bigint, max(c.last_completed_at)
        FROM messages m LEFT JOIN message_counts c ON c.message_id = m.id
        WHERE m.id = @id AND m.project_id = @p
        GROUP BY m.id
        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var deliveries = DeliveryBenchmark.Option(args, "--deliveries", 1_000_000);
        var calls = DeliveryBenchmark.Option(args, "--calls", 500);
        var root = Path.Combine(Path.GetTempPath(), "pushgateway-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Console.WriteLine($"PushGateway message read benchmark: one message to {deliveries:N0} endpoints, {calls} reads while it drains; data in {root}");
        var settings = new Dictionary<string, string> { ["shared_buffers"] = "256MB", ["max_wal_size"] = "2GB", ["checkpoint_timeout"] = "15min", ["shared_preload_libraries"] = "pg_stat_statements" };
        await using var postgres = await LocalPostgres.StartAsync(root, settings, stopOnDispose: true, log: Console.WriteLine, CancellationToken.None);
        await postgres.EnsureDatabaseAsync("bench", CancellationToken.None);
        var connectionString = postgres.ConnectionString("bench");
        await DatabaseMigrator.MigrateAsync(connectionString, CancellationToken.None);

        await using var simulator = await SimulatorHost.StartAsync(new SimulatorOptions { RecordRequests = false, MaxConcurrentStreams = 100 });
        using var gateway = DeliveryBenchmark.StartGateway(connectionString, simulator);
        using var http = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        await DeliveryBenchmark.WaitReadyAsync(http, gateway.Process);
        var (projectKey, appId, projectId) = await DeliveryBenchmark.SetUpAsync(http, simulator);
        using var api = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", projectKey);
        using var console = await SignInAsync(gateway.BaseAddress, projectKey);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        Console.WriteLine($"seeding {deliveries:N0} endpoints …");
        await DeliveryBenchmark.SeedAsync(dataSource, projectId, appId, deliveries, deliveries, warmUp: 1_000);

        // Warm-up: a small message, read until it is done (JIT, connections).
        var warm = await SendAsync(api, "warmup");
        while ((await ReadAsync(api, warm))["status"]!.GetValue<string>() != "completed")
        {
            await ConsolePageAsync(console, warm);
        }

        var started = Stopwatch.GetTimestamp();
        var id = await SendAsync(api, "everyone");
        Console.WriteLine($"accepted (202) after {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s");

        var during = await MeasureAsync(api, console, dataSource, id, projectId, appId, calls);
        var counts = during.Last["counts"]!;
        Console.WriteLine($"after the reads ({Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s): status {during.Last["status"]}, " +
            $"pending {counts["pending"]}, delivered {counts["delivered"]} of {counts["total"]}");
        Console.WriteLine("while it drains:");
        during.Report();

        // The same once it is done and the gateway is idle: what the reads cost without the drain competing for the CPU.
        while ((await ReadAsync(api, id))["status"]!.GetValue<string>() != "completed")
        {
            await Task.Delay(500);
        }

        await Task.Delay(2000);
        var idle = await MeasureAsync(api, console, dataSource, id, projectId, appId, Math.Min(calls, 200));
        Console.WriteLine($"completed ({Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s), idle:");
        idle.Report();
        await ReportWriteCostAsync(dataSource);
        return idle.Last["status"]!.GetValue<string>() == "completed" && idle.Last["counts"]!["delivered"]!.GetValue<long>() == deliveries ? 0 : 1;
    }

    private sealed record Timings(List<double> Api, List<double> Page, List<double> Baseline, List<double> Counters, List<double> Recount)
    {
        public JsonObject Last { get; set; } = [];

        public void Report()
        {
            MessageReadBenchmark.Report("GET /v1/messages/{id}", Api);
            MessageReadBenchmark.Report("console message page", Page);
            MessageReadBenchmark.Report("GET /v1/applications/{id}", Baseline);
            MessageReadBenchmark.Report("counters statement (now)", Counters);
            MessageReadBenchmark.Report("recount statement (before)", Recount);
        }
    }

    /// <summary>
    /// <paramref name="calls"/> rounds of: the message through the API and the console, and for comparison a route
    /// that reads no counts (what HTTP and the key check cost), the statements behind the message's counts now and
    /// before (the recount, every 25th round only: it takes seconds on a big message).
    /// </summary>
    private static async Task<Timings> MeasureAsync(HttpClient api, HttpClient console, NpgsqlDataSource dataSource, Guid id, Guid projectId, Guid appId, int calls)
    {
        var timings = new Timings([], [], [], [], []);
        for (var i = 0; i < calls; i++)
        {
            var t = Stopwatch.GetTimestamp();
            timings.Last = await ReadAsync(api, id);
            timings.Api.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            t = Stopwatch.GetTimestamp();
            await ConsolePageAsync(console, id);
            timings.Page.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            t = Stopwatch.GetTimestamp();
            (await api.GetAsync($"v1/applications/{appId}")).EnsureSuccessStatusCode();
            timings.Baseline.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            timings.Counters.Add(await TimeStatementAsync(dataSource, CountersSql, id, projectId));
            if (i % 25 == 0)
            {
                timings.Recount.Add(await TimeStatementAsync(dataSource, RecountSql, id, projectId));
            }
        }

        return timings;
    }

    internal static void Report(string what, List<double> milliseconds)
    {
        var sorted = milliseconds.Order().ToList();
        double At(double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
        Console.WriteLine($"{what,-28} {sorted.Count,5} calls  p50 {At(0.50),7:F1} ms  p99 {At(0.99),7:F1} ms  max {sorted[^1],7:F1} ms");
    }

    /// <summary>What keeping the counts costs the result write: the counter statements next to the result UPDATE.</summary>
    private static async Task ReportWriteCostAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("""
            CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
            SELECT calls, round(total_exec_time::numeric, 0)::float8, round(mean_exec_time::numeric, 3)::float8, left(regexp_replace(query, '\s+', ' ', 'g'), 70)
            FROM pg_stat_statements
            WHERE query LIKE 'INSERT INTO message_counts%' OR query LIKE 'UPDATE deliveries d%SET state = u.state%'
            ORDER BY total_exec_time DESC
            """);
        await using var reader = await command.ExecuteReaderAsync();
        Console.WriteLine("result writes (calls, total ms, mean ms, statement):");
        while (await reader.ReadAsync())
        {
            Console.WriteLine($"  {reader.GetInt64(0),8} {reader.GetDouble(1),9:F0} {reader.GetDouble(2),8:F3}  {reader.GetString(3)}");
        }
    }

    private static async Task<Guid> SendAsync(HttpClient api, string topic)
    {
        var response = await api.PostAsJsonAsync("v1/messages", new { target = new { topic }, notification = new { title = "Benchmark", body = "Read" } });
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return response.IsSuccessStatusCode ? body!["id"]!.GetValue<Guid>() : throw new InvalidOperationException($"send refused: {body}");
    }

    private static async Task<JsonObject> ReadAsync(HttpClient api, Guid id) =>
        (await api.GetFromJsonAsync<JsonObject>($"v1/messages/{id}"))!;

    private static async Task ConsolePageAsync(HttpClient console, Guid id)
    {
        using var response = await console.GetAsync($"console/messages/{id}");
        var html = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK || !html.Contains(id.ToString(), StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"console page: {(int)response.StatusCode}");
        }
    }

    private static async Task<double> TimeStatementAsync(NpgsqlDataSource dataSource, string sql, Guid id, Guid projectId)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("p", projectId);
        var t = Stopwatch.GetTimestamp();
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return Stopwatch.GetElapsedTime(t).TotalMilliseconds;
    }

    /// <summary>A console session for the project key: the sign-in form with its antiforgery token, cookies kept.</summary>
    private static async Task<HttpClient> SignInAsync(Uri baseAddress, string key)
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = baseAddress };
        var form = await client.GetStringAsync("console/signin");
        var token = AntiforgeryField().Match(form).Groups[1].Value;
        using var signedIn = await client.PostAsync("console/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["key"] = key,
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token),
        }));
        return signedIn.StatusCode == HttpStatusCode.Redirect ? client : throw new InvalidOperationException($"console sign-in: {(int)signedIn.StatusCode}");
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
