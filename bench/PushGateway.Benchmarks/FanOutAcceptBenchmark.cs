using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using PushGateway.Hosting;
using PushGateway.Migrations;
using PushGateway.Simulator;

namespace PushGateway.Benchmarks;

/// <summary>
/// Time to 202 of a topic fan-out to N endpoints (seeded in SQL), and time until every delivery row exists. The
/// gateway runs without delivery workers, so only accepting and expanding are measured. The same run works against
/// a build that expands inside the accepting transaction (BENCH_GATEWAY_DLL), for the "before" figure: there both
/// times are the same.
/// </summary>
internal static class FanOutAcceptBenchmark
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var endpoints = DeliveryBenchmark.Option(args, "--endpoints", 1_000_000);
        var rounds = Math.Max(1, DeliveryBenchmark.Option(args, "--rounds", 2));
        var root = Path.Combine(Path.GetTempPath(), "pushgateway-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Console.WriteLine($"PushGateway fan-out accept benchmark: topic of {endpoints:N0} endpoints, {rounds} rounds; data in {root}");
        var settings = new Dictionary<string, string> { ["shared_buffers"] = "256MB", ["max_wal_size"] = "2GB", ["checkpoint_timeout"] = "15min" };
        await using var postgres = await LocalPostgres.StartAsync(root, settings, stopOnDispose: true, log: Console.WriteLine, CancellationToken.None);
        try
        {
            await postgres.EnsureDatabaseAsync("bench", CancellationToken.None);
            var connectionString = postgres.ConnectionString("bench");
            await DatabaseMigrator.MigrateAsync(connectionString, CancellationToken.None);
            await using var simulator = await SimulatorHost.StartAsync(new SimulatorOptions { RecordRequests = false });
            Environment.SetEnvironmentVariable("BENCH_GATEWAY_ENV", "Delivery__Enabled=false;Expansion__MaxQueuedAhead=0;" + Environment.GetEnvironmentVariable("BENCH_GATEWAY_ENV"));
            using var gateway = DeliveryBenchmark.StartGateway(connectionString, simulator);
            using var http = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromMinutes(10) };
            await DeliveryBenchmark.WaitReadyAsync(http, gateway.Process);
            var (projectKey, appId, projectId) = await DeliveryBenchmark.SetUpAsync(http, simulator);
            using var api = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromMinutes(10) };
            api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", projectKey);
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            Console.WriteLine($"seeding {endpoints:N0} endpoints and the topic …");
            await DeliveryBenchmark.SeedAsync(dataSource, projectId, appId, endpoints, endpoints, warmUp: 1_000);

            for (var i = 0; i < 3; i++)
            {
                await SendAndExpandAsync(api, dataSource, "warmup", 1_000);
            }

            var accepts = new List<double>();
            for (var round = 1; round <= rounds; round++)
            {
                var (accept, expanded, status) = await SendAndExpandAsync(api, dataSource, "everyone", endpoints);
                accepts.Add(accept);
                Console.WriteLine($"round {round}/{rounds}: 202 after {accept * 1000:F0} ms (GET right after: {status}); all {endpoints:N0} deliveries inserted after {expanded:F1} s");
            }

            Console.WriteLine($"summary: time to 202 for a topic of {endpoints:N0} endpoints: median {DeliveryBenchmark.Median(accepts) * 1000:F0} ms (min {accepts.Min() * 1000:F0}, max {accepts.Max() * 1000:F0})");
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

    private static async Task<(double Accept, double Expanded, string Status)> SendAndExpandAsync(HttpClient api, NpgsqlDataSource dataSource, string topic, int expected)
    {
        var started = Stopwatch.GetTimestamp();
        var response = await api.PostAsJsonAsync("v1/messages", new { target = new { topic }, notification = new { title = "Benchmark", body = "Fan-out" } });
        var accept = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"fan-out refused: {(int)response.StatusCode} {body}");
        }

        var id = body!["id"]!.GetValue<Guid>();
        var read = await api.GetFromJsonAsync<JsonObject>($"v1/messages/{id}");
        var status = $"{read!["status"]}, {read["counts"]!["total"]} so far";
        var deadline = DateTimeOffset.UtcNow.AddMinutes(20);
        while (DateTimeOffset.UtcNow < deadline)
        {
            await using var count = dataSource.CreateCommand("SELECT count(*) FROM deliveries WHERE message_id = @m");
            count.Parameters.AddWithValue("m", id);
            if ((long)(await count.ExecuteScalarAsync())! >= expected)
            {
                return (accept, Stopwatch.GetElapsedTime(started).TotalSeconds, status);
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"message {id} was not expanded into {expected} deliveries");
    }
}
