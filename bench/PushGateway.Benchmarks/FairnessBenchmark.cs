using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using PushGateway.Hosting;
using PushGateway.Migrations;
using PushGateway.Simulator;

namespace PushGateway.Benchmarks;

/// <summary>
/// A big fan-out and a small tenant on one gateway: project A's topic of N endpoints (seeded in SQL) is sent once
/// alone (its solo rate and the gateway's peak memory), then again while project B sends single messages to its one
/// endpoint every 250 ms; prints each probe's time from the POST to its delivery recorded, p50/p99/max, and the fan-out's
/// rate with the probes against its solo rate.
/// </summary>
internal static class FairnessBenchmark
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var endpoints = DeliveryBenchmark.Option(args, "--endpoints", 1_000_000);
        var probes = DeliveryBenchmark.Option(args, "--probes", 20);
        var root = Path.Combine(Path.GetTempPath(), "pushgateway-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Console.WriteLine($"PushGateway fairness benchmark: fan-out to {endpoints:N0} endpoints, {probes} probes of another project; data in {root}");
        Console.WriteLine($"load average at start: {File.ReadAllText("/proc/loadavg")[..14]}");
        var settings = new Dictionary<string, string> { ["shared_buffers"] = "256MB", ["max_wal_size"] = "4GB", ["checkpoint_timeout"] = "15min" };
        await using var postgres = await LocalPostgres.StartAsync(root, settings, stopOnDispose: true, log: Console.WriteLine, CancellationToken.None);
        try
        {
            await postgres.EnsureDatabaseAsync("bench", CancellationToken.None);
            var connectionString = postgres.ConnectionString("bench");
            await DatabaseMigrator.MigrateAsync(connectionString, CancellationToken.None);
            DeliveryBenchmark.CpuSnapshot.PostmasterPid = int.Parse(File.ReadLines(Path.Combine(postgres.DataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
            await using var simulator = await SimulatorHost.StartAsync(new SimulatorOptions { RecordRequests = false, MaxConcurrentStreams = 100 });
            using var gateway = DeliveryBenchmark.StartGateway(connectionString, simulator);
            using var http = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromMinutes(10) };
            await DeliveryBenchmark.WaitReadyAsync(http, gateway.Process);
            var (bigKey, bigApp, bigProject) = await DeliveryBenchmark.SetUpAsync(http, simulator);
            var (smallKey, smallApp, _) = await DeliveryBenchmark.SetUpAsync(http, simulator);
            using var big = Client(gateway.BaseAddress, bigKey);
            using var small = Client(gateway.BaseAddress, smallKey);
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            Console.WriteLine($"seeding {endpoints:N0} endpoints and the topic …");
            var seeding = Stopwatch.StartNew();
            await DeliveryBenchmark.SeedAsync(dataSource, bigProject, bigApp, endpoints, endpoints, warmUp: 30_000);
            Console.WriteLine($"seeded in {seeding.Elapsed.TotalSeconds:F0} s");
            var registered = await small.PostAsJsonAsync($"v1/applications/{smallApp}/registrations", new { token = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) });
            var smallEndpoint = (await registered.Content.ReadFromJsonAsync<JsonObject>())!["endpoint"]!["id"]!.GetValue<Guid>();

            // Warm-up: the JIT and the connections, twice, as in the delivery benchmark.
            for (var i = 0; i < 2; i++)
            {
                var (warm, _) = await DeliveryBenchmark.RunFanOutAsync(big, dataSource, simulator, "warmup", 30_000);
                Console.WriteLine($"warm-up {i + 1}/2: {30_000 / warm:N0} deliveries/s");
            }

            // Both measured fan-outs start from a vacuumed table: without this the second one ran while autovacuum worked
            // through the first one's million dead row versions, and paid for it (the solo run never did).
            await VacuumAsync(dataSource);
            var peak0 = DeliveryBenchmark.PeakMemoryMegabytes(gateway.Process.Id);
            var (solo, _) = await DeliveryBenchmark.RunFanOutAsync(big, dataSource, simulator, "everyone", endpoints);
            var soloPeak = DeliveryBenchmark.PeakMemoryMegabytes(gateway.Process.Id);
            Console.WriteLine($"solo fan-out to {endpoints:N0}: {solo:F1} s, {endpoints / solo:N0} deliveries/s; gateway peak memory (VmHWM) {soloPeak:F0} MB (after warm-up {peak0:F0} MB)");

            await VacuumAsync(dataSource);
            var latencies = new List<double>();
            var fanOutTask = DeliveryBenchmark.RunFanOutAsync(big, dataSource, simulator, "everyone", endpoints);
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, solo / 5)));
            for (var i = 0; i < probes && !fanOutTask.IsCompleted; i++)
            {
                var started = Stopwatch.StartNew();
                var response = await small.PostAsJsonAsync("v1/messages", new { target = new { endpointId = smallEndpoint }, notification = new { title = "Hi", body = $"probe {i}" } });
                var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<Guid>();
                while (true)
                {
                    await using var check = dataSource.CreateCommand("SELECT state FROM deliveries WHERE message_id = @m");
                    check.Parameters.AddWithValue("m", id);
                    if (await check.ExecuteScalarAsync() is "delivered")
                    {
                        break;
                    }

                    await Task.Delay(10);
                }

                latencies.Add(started.Elapsed.TotalSeconds);
                await Task.Delay(250);
            }

            var (withProbes, _) = await fanOutTask;
            latencies.Sort();
            Console.WriteLine();
            Console.WriteLine($"probes of the other project while it drained ({latencies.Count}): p50 {latencies[latencies.Count / 2] * 1000:F0} ms, " +
                $"p99 {latencies[(int)Math.Ceiling(latencies.Count * 0.99) - 1] * 1000:F0} ms, max {latencies[^1] * 1000:F0} ms");
            Console.WriteLine($"fan-out with the probes: {withProbes:F1} s, {endpoints / withProbes:N0} deliveries/s = {solo / withProbes:P0} of solo");
            Console.WriteLine($"summary: solo {endpoints / solo:N0}/s, peak {soloPeak:F0} MB; probes p99 {latencies[(int)Math.Ceiling(latencies.Count * 0.99) - 1]:F2} s; fan-out kept {solo / withProbes:P0}; load average {File.ReadAllText("/proc/loadavg")[..14]}");
            gateway.Process.Kill(entireProcessTree: true);
            return 0;
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

    private static async Task VacuumAsync(NpgsqlDataSource dataSource)
    {
        var started = Stopwatch.StartNew();
        await using var vacuum = dataSource.CreateCommand("VACUUM (ANALYZE) deliveries, messages, message_counts");
        vacuum.CommandTimeout = 600;
        await vacuum.ExecuteNonQueryAsync();
        await using var checkpoint = dataSource.CreateCommand("CHECKPOINT");
        checkpoint.CommandTimeout = 600;
        await checkpoint.ExecuteNonQueryAsync();
        Console.WriteLine($"vacuumed and checkpointed in {started.Elapsed.TotalSeconds:F1} s");
    }

    private static HttpClient Client(Uri baseAddress, string key)
    {
        var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(10) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }
}
