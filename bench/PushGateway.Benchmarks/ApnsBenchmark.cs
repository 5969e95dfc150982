using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Runtime;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using PushGateway.Apns;
using PushGateway.Simulator;

namespace PushGateway.Benchmarks;

/// <summary>
/// Sends N notifications through <see cref="ApnsClient"/> to the in-process simulator (recording off) and reports
/// throughput, latency percentiles and the simulator's accepted count, which must equal N.
/// </summary>
internal static class ApnsBenchmark
{
    private const string Topic = "com.example.bench";

    public static async Task<int> RunAsync(BenchmarkArguments args)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"APNs benchmark: requests={args.Requests} concurrency={args.Concurrency} connections={args.Connections} server-streams={args.ServerStreams} warmup={args.Warmup} payload={args.PayloadBytes}B"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"runtime: {Environment.Version}, cores={Environment.ProcessorCount}, server-gc={GCSettings.IsServerGC}, gc-latency={GCSettings.LatencyMode}, shared-array-pool arrays/partition={Environment.GetEnvironmentVariable("DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION") ?? "default"}"));

        await using var simulator = await SimulatorHost.StartAsync(new SimulatorOptions
        {
            RecordRequests = false,
            MaxConcurrentStreams = args.ServerStreams,
        });

        using var control = new HttpClient { BaseAddress = simulator.ControlUrl };
        var key = await PostJsonAsync(control, "/control/apns/keys", new JsonObject { ["teamId"] = "BENCHTEAM1" });
        var credentials = new ApnsTokenCredentials("BENCHTEAM1", key["keyId"]!.GetValue<string>(), key["privateKeyPem"]!.GetValue<string>());

        await using var client = new ApnsClient(
            new ApnsClientOptions
            {
                BaseUrl = simulator.ApnsProductionUrl,
                TrustedCertificate = X509CertificateLoader.LoadCertificate(simulator.Certificate.RawData),
                MaxConnections = args.Connections,
                MaxConcurrentRequests = Math.Max(args.Concurrency, 1),
            },
            credentials);

        var payload = MakePayload(args.PayloadBytes);
        var tokens = new string[4096];
        for (var i = 0; i < tokens.Length; i++)
        {
            tokens[i] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        }

        var warmup = await SendAllAsync(client, tokens, payload, args.Warmup, args.Concurrency, latencies: null);
        if (warmup.Failures > 0)
        {
            Console.Error.WriteLine($"warm-up: {warmup.Failures} requests not accepted, first: {warmup.FirstFailure}");
            return 1;
        }

        var before = await GetApnsCountersAsync(control);
        using var sampler = args.AllocationProfile ? new AllocationSampler() : null;
        sampler?.Start();
        var latencies = new long[args.Requests];
        var gen0 = GC.CollectionCount(0);
        var gen2 = GC.CollectionCount(2);
        var allocated = GC.GetTotalAllocatedBytes();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        var run = await SendAllAsync(client, tokens, payload, args.Requests, args.Concurrency, latencies);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var after = await GetApnsCountersAsync(control);

        Array.Sort(latencies);
        var acceptedBySimulator = after.Accepted - before.Accepted;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            sent:              {args.Requests} in {elapsed.TotalSeconds:F2} s
            throughput:        {args.Requests / elapsed.TotalSeconds:F0} requests/s
            latency:           p50 {Ms(latencies, 0.50)} ms, p99 {Ms(latencies, 0.99)} ms, max {Ms(latencies, 1.0)} ms
            client results:    {args.Requests - run.Failures} accepted, {run.Failures} other{(run.FirstFailure is null ? "" : $" (first: {run.FirstFailure})")}
            simulator:         accepted {acceptedBySimulator}, connections opened {after.ConnectionsOpened}, max streams observed {after.MaxStreams}
            process:           cpu {cpuUsed.TotalSeconds:F2} s ({cpuUsed.TotalMilliseconds * 1000 / args.Requests:F1} us/request), gen0 GCs {GC.CollectionCount(0) - gen0}, gen2 GCs {GC.CollectionCount(2) - gen2}, allocated {(GC.GetTotalAllocatedBytes() - allocated) / args.Requests} B/request (client + simulator)
            """));

        if (sampler is not null)
        {
            Console.WriteLine("allocation samples (about one per 100 KB), by type:");
            foreach (var (type, samples) in sampler.Stop(25))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {samples,7}  {type}"));
            }
        }

        if (acceptedBySimulator != args.Requests || run.Failures != 0)
        {
            Console.Error.WriteLine($"FAILED: the simulator accepted {acceptedBySimulator} of {args.Requests} requests.");
            return 1;
        }

        return 0;
    }

    private static async Task<(int Failures, string? FirstFailure)> SendAllAsync(
        ApnsClient client, string[] tokens, byte[] payload, int total, int concurrency, long[]? latencies)
    {
        var next = -1;
        var failures = 0;
        string? firstFailure = null;

        async Task Worker()
        {
            // Workers start on the thread pool so the first awaits do not run them one after the other.
            await Task.Yield();
            int index;
            while ((index = Interlocked.Increment(ref next)) < total)
            {
                var request = new ApnsRequest
                {
                    DeviceToken = tokens[index & (tokens.Length - 1)],
                    Topic = Topic,
                    Priority = 10,
                    Payload = payload,
                };
                var started = Stopwatch.GetTimestamp();
                var response = await client.SendAsync(request).ConfigureAwait(false);
                if (latencies is not null)
                {
                    latencies[index] = Stopwatch.GetTimestamp() - started;
                }

                if (!response.IsAccepted)
                {
                    Interlocked.Increment(ref failures);
                    Interlocked.CompareExchange(ref firstFailure, response.ToString(), null);
                }
            }
        }

        var workers = new Task[concurrency];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = Worker();
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
        return (failures, firstFailure);
    }

    private static byte[] MakePayload(int size)
    {
        const string prefix = "{\"aps\":{\"alert\":{\"title\":\"Benchmark\",\"body\":\"";
        const string suffix = "\"}}}";
        var fill = Math.Max(0, size - prefix.Length - suffix.Length);
        return Encoding.UTF8.GetBytes(prefix + new string('x', fill) + suffix);
    }

    private static string Ms(long[] sorted, double quantile)
    {
        var index = Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1);
        return (sorted[index] * 1000.0 / Stopwatch.Frequency).ToString("F2", CultureInfo.InvariantCulture);
    }

    private static async Task<JsonNode> PostJsonAsync(HttpClient control, string path, JsonObject body)
    {
        using var response = await control.PostAsJsonAsync(path, body);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonNode>())!;
    }

    private static async Task<(long Accepted, long ConnectionsOpened, long MaxStreams)> GetApnsCountersAsync(HttpClient control)
    {
        var counters = (await control.GetFromJsonAsync<JsonNode>("/control/counters"))!["apns"]!;
        return (counters["accepted"]!.GetValue<long>(), counters["connectionsOpened"]!.GetValue<long>(),
            counters["maxConcurrentStreamsObserved"]!.GetValue<long>());
    }
}
