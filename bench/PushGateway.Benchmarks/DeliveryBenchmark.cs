using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;
using PushGateway.Hosting;
using PushGateway.Migrations;
using PushGateway.Simulator;

namespace PushGateway.Benchmarks;

/// <summary>
/// End-to-end delivery throughput: PostgreSQL (a private cluster from the local binaries), the gateway as its own
/// process, and the APNs simulator, all on this machine. (a) one topic message fanned out to N endpoints; (b) M
/// single-endpoint messages sent through the batch route, 500 per request. "Done" means every delivery reached a final
/// state in the database: accepted → provider answered → result recorded. Also reports the gateway's peak memory.
/// </summary>
internal static class DeliveryBenchmark
{
    internal const string AdminKey = "benchmark-admin-key-0123456789";

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        // --endpoints is the same as --fanout: the size of the topic, seeded in SQL (1000000 for the million-device run).
        var fanOut = Option(args, "--endpoints", Option(args, "--fanout", 100_000));
        var batchMessages = Option(args, "--batch-messages", 50_000);
        var batchConcurrency = Option(args, "--batch-concurrency", 4);
        var warmUp = Option(args, "--warmup", 30_000);
        var rounds = Math.Max(1, Option(args, "--rounds", 3));
        var replicas = Option(args, "--replicas", 1);
        var bothWork = OptionText(args, "--workers", "other") == "both";
        var pickups = Option(args, "--pickups", 20);
        if (replicas is < 1 or > 2)
        {
            throw new ArgumentException("--replicas is 1 or 2.");
        }

        var root = Path.Combine(Path.GetTempPath(), "pushgateway-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Console.WriteLine($"PushGateway delivery benchmark: fan-out {fanOut:N0}, batch route {batchMessages:N0} messages; data in {root}");
        if (replicas == 2)
        {
            Console.WriteLine(bothWork
                ? "two replicas on one database, both with delivery workers; requests go to replica A"
                : "two replicas on one database: A takes every request and runs no delivery workers nor webhook dispatcher (Delivery__Enabled=false, Events__Enabled=false), B runs the workers");
        }


        var serverSettings = new Dictionary<string, string>
        {
            ["shared_buffers"] = "256MB",
            // Room for a million-delivery fan-out's WAL (an insert, a lease and a result per delivery) without a checkpoint
            // forced in the middle of it (and its full-page writes); the fairness benchmark uses the same.
            ["max_wal_size"] = "4GB",
            ["checkpoint_timeout"] = "15min",
            ["shared_preload_libraries"] = "pg_stat_statements",
        };

        // Extra server settings for experiments: BENCH_PG_SETTINGS="shared_preload_libraries=pg_stat_statements,auto_explain;auto_explain.log_min_duration=100".
        foreach (var pair in (Environment.GetEnvironmentVariable("BENCH_PG_SETTINGS") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var at = pair.IndexOf('=', StringComparison.Ordinal);
            serverSettings[pair[..at].Trim()] = pair[(at + 1)..].Trim();
        }

        await using var postgres = await LocalPostgres.StartAsync(root, serverSettings, stopOnDispose: true, log: Console.WriteLine, CancellationToken.None);
        try
        {
            await postgres.EnsureDatabaseAsync("bench", CancellationToken.None);
            var connectionString = postgres.ConnectionString("bench");
            await DatabaseMigrator.MigrateAsync(connectionString, CancellationToken.None);
            CpuSnapshot.PostmasterPid = int.Parse(File.ReadLines(Path.Combine(postgres.DataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);

            await using var simulator = await SimulatorHost.StartAsync(new SimulatorOptions { RecordRequests = false, MaxConcurrentStreams = 100 });
            using var gateway = StartGateway(connectionString, simulator,
                replicas == 2 && !bothWork ? new Dictionary<string, string> { ["Delivery__Enabled"] = "false", ["Events__Enabled"] = "false" } : null);
            using var http = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
            await WaitReadyAsync(http, gateway.Process);
            using var second = replicas == 2 ? StartGateway(connectionString, simulator) : null;
            Process[] processes = second is null ? [gateway.Process] : [gateway.Process, second.Process];
            if (second is not null)
            {
                using var secondHttp = new HttpClient { BaseAddress = second.BaseAddress };
                await WaitReadyAsync(secondHttp, second.Process);
            }

            var (projectKey, appId, projectId) = await SetUpAsync(http, simulator);
            using var api = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
            api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", projectKey);
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            var endpoints = Math.Max(Math.Max(fanOut, batchMessages), warmUp);
            Console.WriteLine($"seeding {endpoints:N0} endpoints and the topic …");
            await SeedAsync(dataSource, projectId, appId, endpoints, fanOut, warmUp);

            // Warm-up, as for any server: connections, provider tokens and caches in place, and the JIT's tiered
            // compilation settled before measuring (both processes start cold; a profile of an unwarmed run spent a
            // fifth of all CPU in the JIT). Twice, each time until the processes are idle: while new methods keep being
            // compiled the runtime postpones counting calls, so the first round mostly compiles and the second one
            // brings the hot paths to their final, optimised tier.
            for (var round = 1; round <= 2; round++)
            {
                var (warmSeconds, _) = await RunFanOutAsync(api, dataSource, simulator, "warmup", expected: warmUp);
                var (warmBatchSeconds, _) = await RunBatchAsync(api, dataSource, simulator, Math.Min(5_000, batchMessages), batchConcurrency);
                Console.WriteLine($"warm-up {round}/2{(round == 1 ? " (cold gateway)" : "")}: fan-out to {warmUp:N0} endpoints {warmUp / warmSeconds:N0} deliveries/s, " +
                    $"{Math.Min(5_000, batchMessages):N0} batch-route messages {Math.Min(5_000, batchMessages) / warmBatchSeconds:N0} messages/s");
                await WaitIdleAsync(processes);
            }

            Console.WriteLine($"measuring {rounds} rounds (gateway pid {string.Join(", ", processes.Select(p => p.Id))})");
            var fanOutRates = new List<double>();
            var batchRates = new List<double>();
            var allSent = true;
            for (var round = 1; round <= rounds; round++)
            {
                var accepted0 = simulator.State.GetCounters().Apns.Accepted;
                var cpu0 = CpuSnapshot.Take(processes);
                var (fanOutSeconds, acceptSeconds) = await RunFanOutAsync(api, dataSource, simulator, "everyone", fanOut);
                var fanOutCpu = CpuSnapshot.Take(processes) - cpu0;
                var fanOutSent = simulator.State.GetCounters().Apns.Accepted - accepted0;
                fanOutRates.Add(fanOut / fanOutSeconds);
                Console.WriteLine();
                Console.WriteLine($"round {round}/{rounds}");
                Console.WriteLine($"(a) topic fan-out to {fanOut:N0} endpoints");
                Console.WriteLine($"    accept (202) took        {acceptSeconds * 1000:F0} ms");
                Console.WriteLine($"    request → all recorded   {fanOutSeconds:F2} s");
                Console.WriteLine($"    throughput               {fanOut / fanOutSeconds:N0} deliveries/s");
                Console.WriteLine($"    simulator accepted       {fanOutSent:N0}");
                Console.WriteLine($"    CPU seconds              {fanOutCpu}");

                accepted0 = simulator.State.GetCounters().Apns.Accepted;
                cpu0 = CpuSnapshot.Take(processes);
                var (batchSeconds, batchAcceptSeconds) = await RunBatchAsync(api, dataSource, simulator, batchMessages, batchConcurrency);
                var batchCpu = CpuSnapshot.Take(processes) - cpu0;
                var batchSent = simulator.State.GetCounters().Apns.Accepted - accepted0;
                batchRates.Add(batchMessages / batchSeconds);
                Console.WriteLine($"(b) {batchMessages:N0} single-endpoint messages through POST /v1/messages/batch (500 per request, {batchConcurrency} requests at a time)");
                Console.WriteLine($"    all accepted after       {batchAcceptSeconds:F2} s ({batchMessages / batchAcceptSeconds:N0} messages/s accepted)");
                Console.WriteLine($"    first send → all recorded {batchSeconds:F2} s");
                Console.WriteLine($"    throughput               {batchMessages / batchSeconds:N0} messages/s");
                Console.WriteLine($"    simulator accepted       {batchSent:N0}");
                Console.WriteLine($"    CPU seconds              {batchCpu}");
                allSent &= fanOutSent >= fanOut && batchSent >= batchMessages;
                await WaitIdleAsync(processes);
            }

            if (args.Contains("--statements"))
            {
                await using var statements = dataSource.CreateCommand("""
                    CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
                    SELECT calls, round(total_exec_time)::bigint, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 110)
                    FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 12
                    """);
                await using var reader = await statements.ExecuteReaderAsync();
                Console.WriteLine("\ntop statements (calls, total ms, rows, query):");
                while (await reader.ReadAsync())
                {
                    Console.WriteLine($"  {reader.GetInt64(0),7} {reader.GetInt64(1),7} {reader.GetInt64(2),8}  {reader.GetString(3)}");
                }
            }

            var pickupLatencies = pickups > 0 ? await MeasurePickupsAsync(api, dataSource, simulator, pickups) : [];
            var peaks = processes.Select(p => PeakMemoryMegabytes(p.Id)).ToList();
            Console.WriteLine();
            Console.WriteLine($"summary over {rounds} rounds (median, min–max)");
            Console.WriteLine($"    (a) fan-out {fanOut:N0}        {Median(fanOutRates):N0} deliveries/s ({fanOutRates.Min():N0}–{fanOutRates.Max():N0})");
            Console.WriteLine($"    (b) batch route {batchMessages:N0}   {Median(batchRates):N0} messages/s ({batchRates.Min():N0}–{batchRates.Max():N0})");
            Console.WriteLine($"    gateway peak memory (VmHWM) {string.Join(" / ", peaks.Select(m => m.ToString("F0", CultureInfo.InvariantCulture)))} MB{(peaks.Count > 1 ? " (replica A / B)" : "")}");
            if (pickupLatencies.Count > 0)
            {
                Console.WriteLine($"    pickup, 202 → simulator  p50 {Percentile(pickupLatencies, 0.50):F1} ms, p99 {Percentile(pickupLatencies, 0.99):F1} ms, max {pickupLatencies.Max():F1} ms " +
                    $"({pickupLatencies.Count} single-endpoint messages to an idle gateway{(replicas == 2 ? ", sent through A" : "")})");
            }

            foreach (var process in processes)
            {
                process.Kill(entireProcessTree: true);
            }
            var ok = allSent;
            if (!ok)
            {
                Console.Error.WriteLine("FAILED: the simulator did not receive every notification.");
            }

            return ok ? 0 : 1;
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
    /// Pickup latency: <paramref name="count"/> single-endpoint messages, one at a time to an idle gateway (100 ms
    /// apart, so every one waits for a wake-up or a poll), each timed from its 202 to the simulator counting it.
    /// </summary>
    private static async Task<List<double>> MeasurePickupsAsync(HttpClient api, NpgsqlDataSource dataSource, SimulatorHost simulator, int count)
    {
        Guid endpointId;
        await using (var command = dataSource.CreateCommand("SELECT id FROM endpoints ORDER BY id LIMIT 1"))
        {
            endpointId = (Guid)(await command.ExecuteScalarAsync())!;
        }

        var latencies = new List<double>();
        for (var i = 0; i < count; i++)
        {
            await Task.Delay(100);
            var before = simulator.State.GetCounters().Apns.Accepted;
            var response = await api.PostAsJsonAsync("v1/messages", new { target = new { endpointId }, notification = new { title = "Pickup" } });
            var accepted = Stopwatch.GetTimestamp();
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"message refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }

            var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
            while (simulator.State.GetCounters().Apns.Accepted == before)
            {
                if (DateTimeOffset.UtcNow > deadline)
                {
                    throw new TimeoutException("a single message was not sent within 30 s");
                }

                Thread.SpinWait(50);
            }

            latencies.Add(Stopwatch.GetElapsedTime(accepted).TotalMilliseconds);
        }

        return latencies;
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }

    internal static async Task<(double Seconds, double AcceptSeconds)> RunFanOutAsync(HttpClient api, NpgsqlDataSource dataSource, SimulatorHost simulator, string topic, int expected)
    {
        var sent0 = simulator.State.GetCounters().Apns.Accepted;
        var started = Stopwatch.GetTimestamp();
        var response = await api.PostAsJsonAsync("v1/messages", new { target = new { topic }, notification = new { title = "Benchmark", body = "Fan-out" } });
        var acceptSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        // targetCount is null for a fan-out (expanded after the 202); WaitForFinalAsync checks the deliveries.
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"fan-out refused: {(int)response.StatusCode} {body}");
        }

        var messageId = body!["id"]!.GetValue<Guid>();
        await WaitForFinalAsync(dataSource, "message_id = @m", p => p.AddWithValue("m", messageId), expected,
            () => simulator.State.GetCounters().Apns.Accepted - sent0 >= expected);
        return (Stopwatch.GetElapsedTime(started).TotalSeconds, acceptSeconds);
    }

    private static async Task<(double Seconds, double AcceptSeconds)> RunBatchAsync(HttpClient api, NpgsqlDataSource dataSource, SimulatorHost simulator, int count, int concurrency)
    {
        var sent0 = simulator.State.GetCounters().Apns.Accepted;
        var ids = new List<Guid>(count);
        await using (var command = dataSource.CreateCommand("SELECT id FROM endpoints ORDER BY id LIMIT @n"))
        {
            command.Parameters.AddWithValue("n", count);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                ids.Add(reader.GetGuid(0));
            }
        }

        var bodies = ids.Chunk(500).Select(chunk =>
        {
            var builder = new StringBuilder("{\"messages\":[");
            for (var i = 0; i < chunk.Length; i++)
            {
                builder.Append(i == 0 ? "" : ",")
                    .Append("{\"target\":{\"endpointId\":\"").Append(chunk[i]).Append("\"},\"notification\":{\"title\":\"Hi\",\"body\":\"Your order ")
                    .Append(i).Append(" shipped\"},\"data\":{\"order\":\"").Append(i).Append("\"}}");
            }

            return builder.Append("]}").ToString();
        }).ToList();

        var since = DateTimeOffset.UtcNow;
        var started = Stopwatch.GetTimestamp();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < bodies.Count)
            {
                var response = await api.PostAsync("v1/messages/batch", new StringContent(bodies[index], Encoding.UTF8, "application/json"));
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"batch refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }
        }));
        var acceptSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await WaitForFinalAsync(dataSource, "message_id IN (SELECT id FROM messages WHERE created_at >= @since AND target_kind = 'endpoint')",
            p => p.AddWithValue("since", since.AddSeconds(-1)), count,
            () => simulator.State.GetCounters().Apns.Accepted - sent0 >= count);
        return (Stopwatch.GetElapsedTime(started).TotalSeconds, acceptSeconds);
    }

    private static async Task WaitForFinalAsync(NpgsqlDataSource dataSource, string where, Action<NpgsqlParameterCollection> bind, int expected, Func<bool> allSent)
    {
        // The measuring must not load PostgreSQL: nothing is asked of it until the simulator has answered every
        // notification; then a cheap question ("is anything left?", answered by the queue's partial indexes) until the
        // last result is recorded, and an exact count once at the end.
        var deadline = DateTimeOffset.UtcNow.AddMinutes(10);
        while (!allSent() && DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        while (DateTimeOffset.UtcNow < deadline)
        {
            await using var pending = dataSource.CreateCommand(
                "SELECT EXISTS (SELECT 1 FROM deliveries WHERE state = 'pending') OR EXISTS (SELECT 1 FROM deliveries WHERE state = 'held')");
            if (!(bool)(await pending.ExecuteScalarAsync())!)
            {
                await using var command = dataSource.CreateCommand(
                    $"SELECT count(*) FILTER (WHERE state IN ('delivered', 'failed', 'expired', 'skipped')), count(*) FILTER (WHERE state IN ('failed', 'expired', 'skipped')) FROM deliveries WHERE {where}");
                bind(command.Parameters);
                await using var reader = await command.ExecuteReaderAsync();
                await reader.ReadAsync();
                if (reader.GetInt64(0) < expected)
                {
                    throw new InvalidOperationException($"only {reader.GetInt64(0)} of {expected} deliveries were queued");
                }

                if (reader.GetInt64(1) > 0)
                {
                    Console.Error.WriteLine($"warning: {reader.GetInt64(1)} deliveries did not end delivered");
                }

                return;
            }

            await Task.Delay(10);
        }

        throw new TimeoutException("deliveries did not finish in 10 minutes");
    }

    internal static async Task<(string Key, Guid AppId, Guid ProjectId)> SetUpAsync(HttpClient http, SimulatorHost simulator)
    {
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        var project = await (await http.PostAsJsonAsync("v1/projects", new { name = "bench" })).Content.ReadFromJsonAsync<JsonObject>();
        var projectId = project!["id"]!.GetValue<Guid>();
        var key = await (await http.PostAsJsonAsync($"v1/projects/{projectId}/api-keys", new { name = "bench" })).Content.ReadFromJsonAsync<JsonObject>();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key!["key"]!.GetValue<string>());
        var apnsKey = simulator.State.AddApnsKey(new ApnsKeyRequest { TeamId = "TEAM123456" });
        var app = await (await http.PostAsJsonAsync("v1/applications", new
        {
            name = "bench-ios",
            platform = "apns",
            environment = "production",
            credentials = new { type = "token", teamId = apnsKey.TeamId, keyId = apnsKey.KeyId, privateKey = apnsKey.PrivateKeyPem, bundleId = "com.example.bench" },
        })).Content.ReadFromJsonAsync<JsonObject>();
        return (key["key"]!.GetValue<string>(), app!["id"]!.GetValue<Guid>(), projectId);
    }

    /// <summary>Waits (at most 20 s) until the gateway and this process have used under 2% of a core for a second.</summary>
    private static async Task WaitIdleAsync(IReadOnlyList<Process> gateways)
    {
        var quiet = 0;
        var last = CpuSnapshot.Take(gateways);
        for (var i = 0; i < 80 && quiet < 4; i++)
        {
            await Task.Delay(250);
            var now = CpuSnapshot.Take(gateways);
            var used = now - last;
            quiet = used.Gateway + used.Driver < 0.005 ? quiet + 1 : 0;
            last = now;
        }
    }

    internal static async Task SeedAsync(NpgsqlDataSource dataSource, Guid projectId, Guid appId, int endpoints, int fanOut, int warmUp)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO topics (id, project_id, name, created_at) VALUES (gen_random_uuid(), @p, 'everyone', now()), (gen_random_uuid(), @p, 'warmup', now());
            INSERT INTO endpoints (id, project_id, application_id, token, enabled, created_at, updated_at, token_updated_at)
            SELECT gen_random_uuid(), @p, @a, md5(g::text) || md5('x' || g::text), true, now(), now(), now() FROM generate_series(1, @n) g;
            INSERT INTO topic_subscriptions (topic_id, endpoint_id, created_at)
            SELECT t.id, e.id, now() FROM (SELECT id FROM endpoints ORDER BY id LIMIT @fanout) e, topics t WHERE t.project_id = @p AND t.name = 'everyone';
            INSERT INTO topic_subscriptions (topic_id, endpoint_id, created_at)
            SELECT t.id, e.id, now() FROM (SELECT id FROM endpoints ORDER BY id DESC LIMIT @warmup) e, topics t WHERE t.project_id = @p AND t.name = 'warmup';
            ANALYZE;
            """);
        command.Parameters.AddWithValue("p", projectId);
        command.Parameters.AddWithValue("a", appId);
        command.Parameters.AddWithValue("n", endpoints);
        command.Parameters.AddWithValue("fanout", fanOut);
        command.Parameters.AddWithValue("warmup", warmUp);
        command.CommandTimeout = 600;
        await command.ExecuteNonQueryAsync();
    }

    internal sealed record RunningGateway(Process Process, Uri BaseAddress) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }

            Process.Dispose();
        }
    }

    private static readonly string EncryptionKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    internal static RunningGateway StartGateway(string connectionString, SimulatorHost simulator, IReadOnlyDictionary<string, string>? settings = null)
    {
        var port = System.Net.Sockets.TcpListener.Create(0) is var l ? Free(l) : 0;
        var startInfo = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        // BENCH_GATEWAY_DLL measures another build of the gateway (a published, ReadyToRun one, say).
        startInfo.ArgumentList.Add(Environment.GetEnvironmentVariable("BENCH_GATEWAY_DLL") is { Length: > 0 } dll
            ? Path.GetFullPath(dll)
            : Path.Combine(AppContext.BaseDirectory, "PushGateway.dll"));
        var env = startInfo.Environment;
        // BENCH_CONNECTION_EXTRA="Maximum Pool Size=8" appends connection string keywords (the last one of a key wins).
        env["ConnectionStrings__PushGateway"] = connectionString + ";Maximum Pool Size=40"
            + (Environment.GetEnvironmentVariable("BENCH_CONNECTION_EXTRA") is { Length: > 0 } extra ? ";" + extra : "");
        env["PushGateway__AdminKey"] = AdminKey;
        // One key for every gateway process of this run: a restarted gateway must decrypt what the first one stored.
        env["PushGateway__EncryptionKey"] = EncryptionKey;
        env["Urls"] = $"http://127.0.0.1:{port}";
        env["Apns__ProductionUrl"] = simulator.ApnsProductionUrl.ToString();
        env["Apns__SandboxUrl"] = simulator.ApnsSandboxUrl.ToString();
        env["Providers__TrustedCertificatePath"] = simulator.CertificatePath;
        env["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            env[key] = value;
        }

        // Extra gateway settings for experiments: BENCH_GATEWAY_ENV="Delivery__MaxInFlight=8000;Delivery__BatchSize=500".
        foreach (var pair in (Environment.GetEnvironmentVariable("BENCH_GATEWAY_ENV") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', 2);
            env[parts[0]] = parts[1];
        }

        if (Environment.GetEnvironmentVariable("BENCH_GATEWAY_DEBUG") == "1")
        {
            env["Logging__LogLevel__PushGateway.Delivery"] = "Debug";
        }
        env["DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION"] = "1024";
        var process = Process.Start(startInfo)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Console.WriteLine("  [gateway] " + e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.WriteLine("  [gateway] " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new RunningGateway(process, new Uri($"http://127.0.0.1:{port}/"));
    }

    private static int Free(System.Net.Sockets.TcpListener listener)
    {
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    internal static async Task WaitReadyAsync(HttpClient http, Process process)
    {
        for (var i = 0; i < 300; i++)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException("the gateway exited");
            }

            try
            {
                if ((await http.GetAsync("readyz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("the gateway did not get ready");
    }

    internal static double PeakMemoryMegabytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
            }
        }

        return double.NaN;
    }

    /// <summary>CPU time used so far by the gateway process, this process (simulator + load driver) and PostgreSQL.</summary>
    internal sealed record CpuSnapshot(double Gateway, double Driver, double Postgres)
    {
        /// <summary>The benchmark cluster's postmaster: only it and its children are counted (other clusters on the machine are not).</summary>
        public static int PostmasterPid { get; set; }

        public static CpuSnapshot Take(Process gateway) => Take([gateway]);

        /// <summary>As <see cref="Take(Process)"/>, with the CPU of every gateway process (replicas) in <see cref="Gateway"/>.</summary>
        public static CpuSnapshot Take(IReadOnlyList<Process> gateways)
        {
            foreach (var gateway in gateways)
            {
                gateway.Refresh();
            }

            double postgres = 0;
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                try
                {
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    var name = stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')];
                    var pid = int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture);
                    var ppid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                    if (name.StartsWith("postgres", StringComparison.Ordinal) && (pid == PostmasterPid || ppid == PostmasterPid))
                    {
                        // utime + stime, and for every process the time of its children already reaped (cutime +
                        // cstime), so backends that exited during the run still count.
                        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                        postgres += (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)
                            + double.Parse(fields[13], CultureInfo.InvariantCulture) + double.Parse(fields[14], CultureInfo.InvariantCulture)) / 100;
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentException)
                {
                }
            }

            return new CpuSnapshot(gateways.Sum(g => g.TotalProcessorTime.TotalSeconds), Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds, postgres);
        }

        public static CpuSnapshot operator -(CpuSnapshot a, CpuSnapshot b) => new(a.Gateway - b.Gateway, a.Driver - b.Driver, a.Postgres - b.Postgres);

        public override string ToString() =>
            FormattableString.Invariant($"gateway {Gateway:F1}, PostgreSQL {Postgres:F1}, simulator+driver {Driver:F1}");
    }

    internal static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    internal static string OptionText(IReadOnlyList<string> args, string name, string fallback)
    {
        for (var i = 0; i < args.Count - 1; i++)
        {
            if (args[i] == name)
            {
                return args[i + 1];
            }
        }

        return fallback;
    }

    internal static int Option(IReadOnlyList<string> args, string name, int fallback)
    {
        for (var i = 0; i < args.Count - 1; i++)
        {
            if (args[i] == name)
            {
                return int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            }
        }

        return fallback;
    }
}
