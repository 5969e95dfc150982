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
/// Bulk import and export through the HTTP routes: PostgreSQL (a private cluster from the local binaries) and the
/// gateway as its own process, as in <see cref="DeliveryBenchmark"/>. Each round imports N new endpoints (about 200
/// bytes a line, with topics) into a fresh application, imports the same file again (every line must come back
/// "existing"), and exports the application, checking the counts; it prints endpoints/s and the gateway's memory.
/// </summary>
internal static class ImportBenchmark
{
    private static readonly string[] TopicNames = [.. Enumerable.Range(0, 20).Select(i => $"segment-{i:D2}")];

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var count = DeliveryBenchmark.Option(args, "--endpoints", 200_000);
        var warmUp = DeliveryBenchmark.Option(args, "--warmup", 20_000);
        var rounds = Math.Max(1, DeliveryBenchmark.Option(args, "--rounds", 3));
        var topics = Math.Clamp(DeliveryBenchmark.Option(args, "--topics", 1), 0, TopicNames.Length);
        var root = Path.Combine(Path.GetTempPath(), "pushgateway-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Console.WriteLine($"PushGateway import/export benchmark: {count:N0} endpoints, {topics} topic(s) a line, {rounds} rounds; data in {root}");
        Console.WriteLine($"load average at start: {LoadAverage()}");

        await using var postgres = await LocalPostgres.StartAsync(root, new Dictionary<string, string>
        {
            ["shared_buffers"] = "256MB",
            ["max_wal_size"] = "2GB",
            ["checkpoint_timeout"] = "15min",
            ["shared_preload_libraries"] = "pg_stat_statements",
        }, stopOnDispose: true, log: Console.WriteLine, CancellationToken.None);
        try
        {
            await postgres.EnsureDatabaseAsync("bench", CancellationToken.None);
            var connectionString = postgres.ConnectionString("bench");
            await DatabaseMigrator.MigrateAsync(connectionString, CancellationToken.None);
            DeliveryBenchmark.CpuSnapshot.PostmasterPid = int.Parse(File.ReadLines(Path.Combine(postgres.DataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);

            await using var simulator = await SimulatorHost.StartAsync(new SimulatorOptions { RecordRequests = false });
            using var gateway = DeliveryBenchmark.StartGateway(connectionString, simulator);
            using var http = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromMinutes(10) };
            await DeliveryBenchmark.WaitReadyAsync(http, gateway.Process);
            var (projectKey, _, _) = await DeliveryBenchmark.SetUpAsync(http, simulator);
            using var api = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromMinutes(10) };
            api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", projectKey);

            var file = Path.Combine(root, "import.ndjson");
            var warmFile = Path.Combine(root, "warmup.ndjson");
            var bytes = Generate(file, count, topics, "a");
            Generate(warmFile, warmUp, topics, "w");
            Console.WriteLine($"generated {count:N0} lines, {bytes / (double)count:F0} bytes a line ({bytes / 1048576.0:F1} MB)");

            var warmApp = await CreateAppAsync(api, simulator, "warmup");
            await ImportAsync(api, warmApp, warmFile, warmUp, expectCreated: true);
            await ImportAsync(api, warmApp, warmFile, warmUp, expectCreated: false);
            await ExportAsync(api, warmApp, warmUp);
            await Task.Delay(2000);
            var idle = Memory(gateway.Process.Id, "VmRSS:");
            Console.WriteLine($"warmed up; gateway idle resident memory {idle:F0} MB (pid {gateway.Process.Id})");

            var importRates = new List<double>();
            var reimportRates = new List<double>();
            var exportRates = new List<double>();
            var peaks = new List<double>();
            for (var round = 1; round <= rounds; round++)
            {
                var app = await CreateAppAsync(api, simulator, $"round-{round}");
                Console.WriteLine();
                Console.WriteLine($"round {round}/{rounds} (load average {LoadAverage()})");
                ResetPeak(gateway.Process.Id);
                var cpu0 = DeliveryBenchmark.CpuSnapshot.Take(gateway.Process);
                var seconds = await ImportAsync(api, app, file, count, expectCreated: true);
                var cpu = DeliveryBenchmark.CpuSnapshot.Take(gateway.Process) - cpu0;
                var peak = DeliveryBenchmark.PeakMemoryMegabytes(gateway.Process.Id);
                importRates.Add(count / seconds);
                Console.WriteLine($"    import {count:N0} new      {seconds:F2} s, {count / seconds:N0} endpoints/s; CPU s {cpu}; peak RSS {peak:F0} MB");

                ResetPeak(gateway.Process.Id);
                cpu0 = DeliveryBenchmark.CpuSnapshot.Take(gateway.Process);
                seconds = await ImportAsync(api, app, file, count, expectCreated: false);
                cpu = DeliveryBenchmark.CpuSnapshot.Take(gateway.Process) - cpu0;
                var reimportPeak = DeliveryBenchmark.PeakMemoryMegabytes(gateway.Process.Id);
                reimportRates.Add(count / seconds);
                Console.WriteLine($"    re-import (existing)  {seconds:F2} s, {count / seconds:N0} endpoints/s; CPU s {cpu}; peak RSS {reimportPeak:F0} MB");

                ResetPeak(gateway.Process.Id);
                cpu0 = DeliveryBenchmark.CpuSnapshot.Take(gateway.Process);
                seconds = await ExportAsync(api, app, count);
                cpu = DeliveryBenchmark.CpuSnapshot.Take(gateway.Process) - cpu0;
                var exportPeak = DeliveryBenchmark.PeakMemoryMegabytes(gateway.Process.Id);
                exportRates.Add(count / seconds);
                Console.WriteLine($"    export                {seconds:F2} s, {count / seconds:N0} endpoints/s; CPU s {cpu}; peak RSS {exportPeak:F0} MB");
                peaks.Add(Math.Max(peak, Math.Max(reimportPeak, exportPeak)));
            }

            if (args.Contains("--statements"))
            {
                await PrintStatementsAsync(connectionString);
            }

            Console.WriteLine();
            Console.WriteLine($"summary over {rounds} rounds (median, min–max); load average now {LoadAverage()}");
            Console.WriteLine($"    import {count:N0} new endpoints  {DeliveryBenchmark.Median(importRates):N0} endpoints/s ({importRates.Min():N0}–{importRates.Max():N0})");
            Console.WriteLine($"    re-import (all existing)   {DeliveryBenchmark.Median(reimportRates):N0} endpoints/s ({reimportRates.Min():N0}–{reimportRates.Max():N0})");
            Console.WriteLine($"    export                     {DeliveryBenchmark.Median(exportRates):N0} endpoints/s ({exportRates.Min():N0}–{exportRates.Max():N0})");
            Console.WriteLine($"    gateway memory             idle {idle:F0} MB, peak during a measurement {peaks.Max():F0} MB (+{peaks.Max() - idle:F0} MB)");
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

    /// <summary>N lines of about 200 bytes: an APNs token, custom data, a user and K of 20 topics.</summary>
    private static long Generate(string path, int count, int topics, string seed)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        var random = new Random(42);
        var token = new byte[32];
        for (var i = 0; i < count; i++)
        {
            random.NextBytes(token);
            writer.Write("{\"token\":\"");
            writer.Write(Convert.ToHexStringLower(token));
            writer.Write("\",\"customUserData\":\"");
            writer.Write(seed);
            writer.Write(FormattableString.Invariant($"device-{i:D8} app 4.2.1"));
            writer.Write("\",\"userId\":\"");
            writer.Write(FormattableString.Invariant($"user-{i / 2:D8}"));
            writer.Write("\",\"topics\":[");
            for (var t = 0; t < topics; t++)
            {
                writer.Write(t == 0 ? "\"" : ",\"");
                writer.Write(TopicNames[(i + t) % TopicNames.Length]);
                writer.Write('"');
            }

            writer.Write("]}\n");
        }

        writer.Flush();
        return writer.BaseStream.Length;
    }

    private static async Task<Guid> CreateAppAsync(HttpClient api, SimulatorHost simulator, string name)
    {
        var key = simulator.State.AddApnsKey(new ApnsKeyRequest { TeamId = "TEAM123456" });
        var response = await api.PostAsJsonAsync("v1/applications", new
        {
            name,
            platform = "apns",
            environment = "production",
            credentials = new { type = "token", teamId = key.TeamId, keyId = key.KeyId, privateKey = key.PrivateKeyPem, bundleId = "com.example.bench" },
        });
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return response.IsSuccessStatusCode ? body!["id"]!.GetValue<Guid>() : throw new InvalidOperationException($"application refused: {body}");
    }

    /// <summary>Sends the file to the import route and checks the answer's counts; returns the seconds it took.</summary>
    private static async Task<double> ImportAsync(HttpClient api, Guid app, string path, int count, bool expectCreated)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        using var content = new StreamContent(stream, 1 << 16);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        var started = Stopwatch.GetTimestamp();
        using var response = await api.PostAsync($"v1/applications/{app}/endpoints/import", content);
        var text = await response.Content.ReadAsStringAsync();
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var body = JsonNode.Parse(text)!.AsObject();
        long Count(string name) => body[name]?.GetValue<long>() ?? -1;
        var ok = response.IsSuccessStatusCode && Count("lines") == count && Count("invalid") == 0 && Count("conflicts") == 0
            && Count(expectCreated ? "created" : "existing") == count && Count(expectCreated ? "existing" : "created") == 0;
        return ok ? seconds : throw new InvalidOperationException($"import answered {(int)response.StatusCode}: {text[..Math.Min(text.Length, 600)]}");
    }

    /// <summary>Reads the whole export, counting lines; returns the seconds it took.</summary>
    private static async Task<double> ExportAsync(HttpClient api, Guid app, int count)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await api.GetAsync($"v1/applications/{app}/endpoints/export", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[1 << 16];
        long lines = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
        }

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return lines == count ? seconds : throw new InvalidOperationException($"export gave {lines} lines, expected {count}");
    }

    private static async Task PrintStatementsAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
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

    /// <summary>Resets the process's peak resident memory (VmHWM) so the next reading covers one phase only.</summary>
    private static void ResetPeak(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.WriteLine("    (could not reset the peak memory reading; peaks are since the start)");
        }
    }

    private static double Memory(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}
