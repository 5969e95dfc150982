using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;
using PushGateway.Hosting;
using PushGateway.Migrations;
using PushGateway.Simulator;

namespace PushGateway.Benchmarks;

/// <summary>
/// The REST request path under load, as an app backend drives it: PostgreSQL (a private cluster), the gateway as its
/// own process (with its delivery workers and the APNs simulator, so sends are delivered by the same process), and
/// <c>wrk</c> with 64 connections. Each request type gets a warm-up and then a measured run; it prints requests/s, p50,
/// p99, non-2xx answers and the CPU time per request of the gateway and of PostgreSQL. Optionally (<c>--cold</c>) the
/// first 100,000-endpoint topic fan-out after a fresh start of the gateway against a warm one.
/// </summary>
internal static class RestBenchmark
{
    private const string TokenPrefix = "5eed00000000000000000000000000000000000000000000"; // 48 hex digits

    private static readonly string[] AllCases = ["created", "unchanged", "get", "send"];

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var connections = DeliveryBenchmark.Option(args, "--connections", 64);
        var warmSeconds = DeliveryBenchmark.Option(args, "--warmup", 10);
        var seconds = DeliveryBenchmark.Option(args, "--duration", 20);
        var seeded = DeliveryBenchmark.Option(args, "--endpoints", 20_000);
        var coldEndpoints = DeliveryBenchmark.Option(args, "--cold", 0);
        var only = OptionText(args, "--only");
        var cases = only is null ? AllCases : only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (FindWrk() is not { } wrk)
        {
            Console.Error.WriteLine("wrk is not installed (Debian package wrk)");
            return 2;
        }

        var root = Path.Combine(Path.GetTempPath(), "pushgateway-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Console.WriteLine($"PushGateway REST benchmark: wrk -t1 -c{connections}, {warmSeconds} s warm-up then {seconds} s measured per request type; data in {root}");
        Console.WriteLine($"load average at start: {LoadAverage()}");
        var settings = new Dictionary<string, string>
        {
            ["shared_buffers"] = "256MB",
            ["max_wal_size"] = "2GB",
            ["checkpoint_timeout"] = "15min",
            ["shared_preload_libraries"] = "pg_stat_statements",
            // --statements shows how often each statement was planned: a prepared statement that PostgreSQL keeps
            // planning per call (custom plans) costs more CPU in the planner than in the executor.
            ["pg_stat_statements.track_planning"] = "on",
        };
        // Extra server settings for experiments, as in the delivery benchmark: BENCH_PG_SETTINGS="commit_delay=100;commit_siblings=5".
        foreach (var pair in (Environment.GetEnvironmentVariable("BENCH_PG_SETTINGS") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var at = pair.IndexOf('=', StringComparison.Ordinal);
            settings[pair[..at].Trim()] = pair[(at + 1)..].Trim();
        }

        await using var postgres = await LocalPostgres.StartAsync(root, settings, stopOnDispose: true, log: Console.WriteLine, CancellationToken.None);
        try
        {
            await postgres.EnsureDatabaseAsync("bench", CancellationToken.None);
            var connectionString = postgres.ConnectionString("bench");
            await DatabaseMigrator.MigrateAsync(connectionString, CancellationToken.None);
            // Schema experiments without a migration: BENCH_SQL="ALTER TABLE endpoints SET (fillfactor = 90)" runs
            // after the migrations, before anything is written.
            if (Environment.GetEnvironmentVariable("BENCH_SQL") is { Length: > 0 } experiment)
            {
                await using var experimentSource = NpgsqlDataSource.Create(connectionString);
                await using var command = experimentSource.CreateCommand(experiment);
                await command.ExecuteNonQueryAsync();
                Console.WriteLine($"BENCH_SQL: {experiment}");
            }

            DeliveryBenchmark.CpuSnapshot.PostmasterPid = int.Parse(File.ReadLines(Path.Combine(postgres.DataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
            await using var simulator = await SimulatorHost.StartAsync(new SimulatorOptions { RecordRequests = false, MaxConcurrentStreams = 100 });
            var gateway = DeliveryBenchmark.StartGateway(connectionString, simulator);
            try
            {
                using var http = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
                await DeliveryBenchmark.WaitReadyAsync(http, gateway.Process);
                var (projectKey, appId, projectId) = await DeliveryBenchmark.SetUpAsync(http, simulator);
                using var api = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
                api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", projectKey);
                await using var dataSource = NpgsqlDataSource.Create(connectionString);

                // Registered devices for "unchanged", "get" and "send": tokens TokenPrefix + %016x, users user-%d.
                await SeedRegisteredAsync(api, appId, seeded, root);
                var ids = new List<string>(seeded);
                await using (var command = dataSource.CreateCommand("SELECT id FROM endpoints WHERE application_id = @a ORDER BY token"))
                {
                    command.Parameters.AddWithValue("a", appId);
                    await using var reader = await command.ExecuteReaderAsync();
                    while (await reader.ReadAsync())
                    {
                        ids.Add(reader.GetGuid(0).ToString());
                    }
                }

                var idsFile = Path.Combine(root, "ids.txt");
                await File.WriteAllLinesAsync(idsFile, ids);
                await ResetStatementsAsync(dataSource);
                var results = new List<(string Case, WrkResult Result, DeliveryBenchmark.CpuSnapshot Cpu)>();
                foreach (var name in cases)
                {
                    var script = Path.Combine(root, name + ".lua");
                    await File.WriteAllTextAsync(script, Script(name, appId, idsFile, seeded, projectKey));
                    Console.WriteLine();
                    Console.WriteLine($"{name}: warm-up {warmSeconds} s (load average {LoadAverage()})");
                    var warm = await RunWrkAsync(wrk, gateway.BaseAddress, script, connections, warmSeconds, "warm" + name);
                    Console.WriteLine($"    warm-up: {warm}");
                    var cpu0 = DeliveryBenchmark.CpuSnapshot.Take(gateway.Process);
                    var machine0 = MachineTimes.Take();
                    using var stopWaits = new CancellationTokenSource();
                    var waits = args.Contains("--waits") ? SampleWaitsAsync(dataSource, stopWaits.Token) : null;
                    var measured = await RunWrkAsync(wrk, gateway.BaseAddress, script, connections, seconds, name);
                    var cpu = DeliveryBenchmark.CpuSnapshot.Take(gateway.Process) - cpu0;
                    var machine = MachineTimes.Take() - machine0;
                    results.Add((name, measured, cpu));
                    Console.WriteLine($"    measured: {measured}; CPU per request: gateway {cpu.Gateway / measured.Requests * 1000:F2} ms, PostgreSQL {cpu.Postgres / measured.Requests * 1000:F2} ms; machine {machine}");
                    if (waits is not null)
                    {
                        await stopWaits.CancelAsync();
                        PrintWaits(await waits);
                    }
                    if (name == "send")
                    {
                        await WaitForQueueEmptyAsync(dataSource);
                    }
                }

                if (args.Contains("--statements"))
                {
                    await PrintStatementsAsync(dataSource);
                }

                Console.WriteLine();
                Console.WriteLine($"summary (load average now {LoadAverage()})");
                Console.WriteLine($"    {"request",-10} {"req/s",9} {"p50 ms",8} {"p99 ms",8} {"non-2xx",8} {"gw ms/req",10} {"pg ms/req",10}");
                foreach (var (name, result, cpu) in results)
                {
                    Console.WriteLine(FormattableString.Invariant(
                        $"    {name,-10} {result.Rate,9:N0} {result.P50Ms,8:F1} {result.P99Ms,8:F1} {result.Non2xx + result.SocketErrors,8} {cpu.Gateway / result.Requests * 1000,10:F2} {cpu.Postgres / result.Requests * 1000,10:F2}"));
                }

                if (coldEndpoints > 0)
                {
                    gateway = await ColdStartAsync(gateway, connectionString, simulator, dataSource, api, projectKey, projectId, appId, coldEndpoints);
                }

                return results.All(r => r.Result.Non2xx + r.Result.SocketErrors == 0) ? 0 : 1;
            }
            finally
            {
                gateway.Dispose();
            }
        }
        finally
        {
            try
            {
                await postgres.StopAsync(CancellationToken.None);
                Directory.Delete(root, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or LocalPostgresUnavailableException)
            {
            }
        }
    }

    /// <summary>
    /// The first topic fan-out to N endpoints after a fresh start of the gateway process (nothing compiled, no
    /// connections, no provider token), then the same fan-out twice more on the now warm process; prints the ratio.
    /// </summary>
    private static async Task<DeliveryBenchmark.RunningGateway> ColdStartAsync(DeliveryBenchmark.RunningGateway gateway, string connectionString,
        SimulatorHost simulator, NpgsqlDataSource dataSource, HttpClient oldApi, string projectKey, Guid projectId, Guid appId, int endpoints)
    {
        Console.WriteLine();
        Console.WriteLine($"cold start: seeding {endpoints:N0} endpoints in a topic, then a fresh gateway process");
        await using (var seed = dataSource.CreateCommand("""
            INSERT INTO topics (id, project_id, name, created_at) VALUES (gen_random_uuid(), @p, 'cold', now());
            WITH e AS (
                INSERT INTO endpoints (id, project_id, application_id, token, enabled, created_at, updated_at, token_updated_at)
                SELECT gen_random_uuid(), @p, @a, 'c01d' || substr(md5(g::text) || md5('c' || g::text), 5), true, now(), now(), now()
                FROM generate_series(1, @n) g
                RETURNING id)
            INSERT INTO topic_subscriptions (topic_id, endpoint_id, created_at)
            SELECT t.id, e.id, now() FROM e, topics t WHERE t.project_id = @p AND t.name = 'cold';
            """))
        {
            seed.Parameters.AddWithValue("p", projectId);
            seed.Parameters.AddWithValue("a", appId);
            seed.Parameters.AddWithValue("n", endpoints);
            seed.CommandTimeout = 600;
            await seed.ExecuteNonQueryAsync();
        }

        // What is measured is the gateway's cold start, not the seed's: a database a gateway restarts against has its
        // rows vacuumed (hint bits set, visibility map) and checkpointed. Without this the first fan-out also paid for
        // setting the hint bits of 200,000 just-inserted rows and ran beside autovacuum's pass over them.
        foreach (var statement in new[] { "VACUUM (ANALYZE) endpoints", "VACUUM (ANALYZE) topic_subscriptions", "VACUUM (ANALYZE) deliveries", "CHECKPOINT" })
        {
            await using var maintenance = dataSource.CreateCommand(statement);
            maintenance.CommandTimeout = 600;
            await maintenance.ExecuteNonQueryAsync();
        }

        gateway.Dispose();
        await Task.Delay(1000);
        var started = Stopwatch.GetTimestamp();
        gateway = DeliveryBenchmark.StartGateway(connectionString, simulator);
        using var http = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        await DeliveryBenchmark.WaitReadyAsync(http, gateway.Process);
        Console.WriteLine($"    fresh gateway ready after {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s (pid {gateway.Process.Id})");
        using var api = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromMinutes(10) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", projectKey);
        var rates = new List<double>();
        for (var round = 0; round < 3; round++)
        {
            // Where the cold run loses its time: what the simulator had received, every half second.
            using var sampling = new CancellationTokenSource();
            var sent0 = simulator.State.GetCounters().Apns.Accepted;
            var curve = new List<long>();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    await Task.Delay(500);
                    curve.Add(simulator.State.GetCounters().Apns.Accepted - sent0);
                }
            });
            var (total, _) = await DeliveryBenchmark.RunFanOutAsync(api, dataSource, simulator, "cold", endpoints);
            await sampling.CancelAsync();
            await sampler;
            rates.Add(endpoints / total);
            Console.WriteLine($"    fan-out {round + 1}{(round == 0 ? " (cold)" : " (warm)")}: {total:F2} s, {endpoints / total:N0} deliveries/s");
            Console.WriteLine($"      sent per half second: {string.Join(" ", curve.Zip(curve.Prepend(0L), (now, before) => (now - before).ToString(CultureInfo.InvariantCulture)))}");
        }

        var warm = Math.Max(rates[1], rates[2]);
        Console.WriteLine($"    cold / warm = {rates[0] / warm:F2}");
        return gateway;
    }

    private static async Task SeedRegisteredAsync(HttpClient api, Guid appId, int count, string root)
    {
        var file = Path.Combine(root, "registered.ndjson");
        await using (var writer = new StreamWriter(file, false, new UTF8Encoding(false)))
        {
            for (var i = 0; i < count; i++)
            {
                await writer.WriteLineAsync(FormattableString.Invariant($"{{\"token\":\"{TokenPrefix}{i:x16}\",\"userId\":\"user-{i}\"}}"));
            }
        }

        await using var stream = File.OpenRead(file);
        using var content = new StreamContent(stream);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        using var response = await api.PostAsync($"v1/applications/{appId}/endpoints/import", content);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        if (!response.IsSuccessStatusCode || body?["created"]?.GetValue<long>() != count)
        {
            throw new InvalidOperationException($"seeding answered {(int)response.StatusCode}: {body}");
        }
    }

    /// <summary>The wrk script of one request type; each prints one line of figures when done.</summary>
    private static string Script(string name, Guid appId, string idsFile, int seeded, string key)
    {
        var common = $$"""
            wrk.headers["Authorization"] = "Bearer {{key}}"
            wrk.headers["Content-Type"] = "application/json"
            local ids = {}
            for line in io.lines("{{idsFile}}") do ids[#ids + 1] = line end
            local n = 0
            math.randomseed(os.time())
            local run = string.format("%08x", math.random(0, 0x7fffffff))
            done = function(summary, latency, requests)
              io.write(string.format("WRK %d %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
                latency:percentile(50), latency:percentile(99), summary.errors.status,
                summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, latency.max, latency.mean))
            end
            """;
        var request = name switch
        {
            // A new device and user each time.
            "created" => $$"""
                request = function()
                  n = n + 1
                  local token = "c0ffee" .. run .. string.format("%050x", n)
                  return wrk.format("POST", "/v1/applications/{{appId}}/registrations", nil,
                    '{"token":"' .. token .. '","userId":"new-' .. run .. '-' .. n .. '"}')
                end
                """,
            // The "register on every launch" case: a registered token with its user, nothing changes.
            "unchanged" => $$"""
                request = function()
                  local i = n % {{seeded}}
                  n = n + 1
                  return wrk.format("POST", "/v1/applications/{{appId}}/registrations", nil,
                    '{"token":"{{TokenPrefix}}' .. string.format("%016x", i) .. '","userId":"user-' .. i .. '"}')
                end
                """,
            "get" => """
                request = function()
                  n = n + 1
                  return wrk.format("GET", "/v1/endpoints/" .. ids[(n % #ids) + 1], nil, nil)
                end
                """,
            "send" => """
                request = function()
                  n = n + 1
                  return wrk.format("POST", "/v1/messages", nil,
                    '{"target":{"endpointId":"' .. ids[(n % #ids) + 1] .. '"},"notification":{"title":"Hi","body":"Your order ' .. n .. ' shipped"}}')
                end
                """,
            _ => throw new ArgumentException($"unknown request type {name} (created, unchanged, get, send)"),
        };
        return common + "\n" + request + "\n";
    }

    internal sealed record WrkResult(long Requests, double Seconds, double P50Ms, double P99Ms, long Non2xx, long SocketErrors)
    {
        public double Rate => Requests / Seconds;

        public override string ToString() => FormattableString.Invariant(
            $"{Rate:N0} req/s, p50 {P50Ms:F1} ms, p99 {P99Ms:F1} ms, {Requests:N0} requests, {Non2xx} non-2xx, {SocketErrors} socket errors");
    }

    private static async Task<WrkResult> RunWrkAsync(string wrk, Uri baseAddress, string script, int connections, int seconds, string label)
    {
        var startInfo = new ProcessStartInfo(wrk) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-t1", $"-c{connections}", $"-d{seconds}s", "--timeout", "10s", "-s", script, baseAddress.ToString().TrimEnd('/') })
        {
            startInfo.ArgumentList.Add(arg);
        }

        using var process = Process.Start(startInfo)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("WRK ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"wrk ({label}) printed no figures: {output} {errors}");
        var f = line.Split(' ')[1..].Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        return new WrkResult(f[0], f[1] / 1e6, f[2] / 1000.0, f[3] / 1000.0, f[4], f[5]);
    }

    private static string? FindWrk() =>
        new[] { "/usr/bin/wrk", "/usr/local/bin/wrk" }.FirstOrDefault(File.Exists);

    private static async Task WaitForQueueEmptyAsync(NpgsqlDataSource dataSource)
    {
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < TimeSpan.FromMinutes(5))
        {
            await using var command = dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM deliveries WHERE state = 'pending')");
            if (!(bool)(await command.ExecuteScalarAsync())!)
            {
                Console.WriteLine($"    every sent message delivered {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s after the load ended");
                return;
            }

            await Task.Delay(50);
        }
    }

    private static async Task ResetStatementsAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()");
        await command.ExecuteNonQueryAsync();
    }

    private static async Task PrintStatementsAsync(NpgsqlDataSource dataSource)
    {
        await using var statements = dataSource.CreateCommand("""
            SELECT calls, round(total_exec_time)::bigint, round((total_exec_time / greatest(calls, 1) * 1000)::numeric, 1),
                   plans, round((total_plan_time / greatest(calls, 1) * 1000)::numeric, 1), left(regexp_replace(query, '\s+', ' ', 'g'), 110)
            FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 20
            """);
        await using var reader = await statements.ExecuteReaderAsync();
        Console.WriteLine("\ntop statements (calls, total execution ms, µs a call, times planned, planning µs a call, query):");
        while (await reader.ReadAsync())
        {
            Console.WriteLine($"  {reader.GetInt64(0),8} {reader.GetInt64(1),7} {reader.GetDecimal(2),8} {reader.GetInt64(3),8} {reader.GetDecimal(4),6}  {reader.GetString(5)}");
        }

        // Row updates that PostgreSQL could make HOT (no index entries written) against all updates, per table.
        await reader.DisposeAsync();
        await using var tables = dataSource.CreateCommand("""
            SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_dead_tup, autovacuum_count
            FROM pg_stat_user_tables WHERE n_tup_ins + n_tup_upd > 0 ORDER BY n_tup_ins + n_tup_upd DESC LIMIT 8
            """);
        await using var rows = await tables.ExecuteReaderAsync();
        Console.WriteLine("\ntables (inserts, updates, of which HOT, dead rows now, autovacuums):");
        while (await rows.ReadAsync())
        {
            Console.WriteLine($"  {rows.GetString(0),-22} {rows.GetInt64(1),9} {rows.GetInt64(2),9} {rows.GetInt64(3),9} {rows.GetInt64(4),9} {rows.GetInt64(5),4}");
        }
    }

    private static string? OptionText(IReadOnlyList<string> args, string name)
    {
        for (var i = 0; i < args.Count - 1; i++)
        {
            if (args[i] == name)
            {
                return args[i + 1];
            }
        }

        return null;
    }

    /// <summary>
    /// What the benchmark database's sessions are doing, sampled from <c>pg_stat_activity</c> every 10 ms until
    /// cancelled: per state and wait event, how many sessions were in it on average. Shows whether requests wait on
    /// locks, the WAL flush or the client rather than burn CPU.
    /// </summary>
    private static async Task<(int Samples, Dictionary<string, (int Sum, int Max)> Counts)> SampleWaitsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, (int Sum, int Max)>();
        var samples = 0;
        await using var connection = await dataSource.OpenConnectionAsync(CancellationToken.None);
        await using var command = new NpgsqlCommand("""
            SELECT coalesce(state, backend_type) || coalesce(' / ' || wait_event_type || ':' || wait_event, ' / on CPU'), count(*)
            FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND (datname = current_database() OR backend_type <> 'client backend')
            GROUP BY 1
            """, connection);
        while (!cancellationToken.IsCancellationRequested)
        {
            await using (var reader = await command.ExecuteReaderAsync(CancellationToken.None))
            {
                while (await reader.ReadAsync(CancellationToken.None))
                {
                    var key = reader.GetString(0);
                    var (sum, max) = counts.GetValueOrDefault(key);
                    var now = (int)reader.GetInt64(1);
                    counts[key] = (sum + now, Math.Max(max, now));
                }
            }

            samples++;
            try
            {
                await Task.Delay(10, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }

        return (samples, counts);
    }

    private static void PrintWaits((int Samples, Dictionary<string, (int Sum, int Max)> Counts) waits)
    {
        Console.WriteLine($"    sessions by state / wait event over {waits.Samples} samples of pg_stat_activity (mean, most in one sample):");
        foreach (var (key, count) in waits.Counts.OrderByDescending(c => c.Value.Sum).Take(16))
        {
            Console.WriteLine(FormattableString.Invariant($"      {(double)count.Sum / Math.Max(1, waits.Samples),6:F2} {count.Max,4}  {key}"));
        }
    }

    /// <summary>The machine's CPU time from /proc/stat: busy (user, nice, system, irq, softirq), idle (with iowait) and stolen.</summary>
    private sealed record MachineTimes(double Busy, double Idle, double Steal)
    {
        public static MachineTimes Take()
        {
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select(f => double.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            return new MachineTimes(fields[0] + fields[1] + fields[2] + fields[5] + fields[6], fields[3] + fields[4], fields.Length > 7 ? fields[7] : 0);
        }

        public static MachineTimes operator -(MachineTimes a, MachineTimes b) => new(a.Busy - b.Busy, a.Idle - b.Idle, a.Steal - b.Steal);

        public override string ToString()
        {
            var total = Math.Max(1, Busy + Idle + Steal);
            return FormattableString.Invariant($"{Busy / total:P0} busy, {Idle / total:P0} idle, {Steal / total:P0} stolen");
        }
    }

    private static string LoadAverage() =>
        string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}
