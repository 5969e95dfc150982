using PushGateway.Benchmarks;

// SocketsHttpHandler rents a 32 KB buffer from ArrayPool<byte>.Shared for the HEADERS of every HTTP/2 request
// (Http2Connection.SendHeadersAsync) and holds it until the frame is written. The shared pool keeps 32 arrays per size
// per core, so beyond a few dozen requests starting at once every request allocates 32 KB of garbage. The runtime
// reads this variable once, when the pool is first used: it has to be set before anything rents from it.
const string ArraysPerPartition = "DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION";
if (Environment.GetEnvironmentVariable(ArraysPerPartition) is null)
{
    Environment.SetEnvironmentVariable(ArraysPerPartition, "1024");
}

return args switch
{
    ["apns", .. var rest] => await ApnsBenchmark.RunAsync(BenchmarkArguments.Parse(rest)),
    ["delivery", .. var rest] => await DeliveryBenchmark.RunAsync(rest),
    ["message-reads", .. var rest] => await MessageReadBenchmark.RunAsync(rest),
    ["import", .. var rest] => await ImportBenchmark.RunAsync(rest),
    ["fanout-accept", .. var rest] => await FanOutAcceptBenchmark.RunAsync(rest),
    ["rest", .. var rest] => await RestBenchmark.RunAsync(rest),
    ["fairness", .. var rest] => await FairnessBenchmark.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: dotnet run -c Release --project bench/PushGateway.Benchmarks -- apns
                 [--requests N] [--concurrency C] [--connections K] [--streams S] [--warmup W] [--payload BYTES] [--alloc-profile 1]
               dotnet run -c Release --project bench/PushGateway.Benchmarks -- delivery
                 [--fanout N] [--batch-messages M] [--batch-concurrency C] [--warmup W] [--rounds R] [--statements]
                 [--replicas 1|2] [--workers other|both] [--pickups P]
               dotnet run -c Release --project bench/PushGateway.Benchmarks -- message-reads
                 [--deliveries N] [--calls C]
               dotnet run -c Release --project bench/PushGateway.Benchmarks -- import
                 [--endpoints N] [--topics K] [--warmup W] [--rounds R] [--statements]
               dotnet run -c Release --project bench/PushGateway.Benchmarks -- fanout-accept
                 [--endpoints N] [--rounds R]
               dotnet run -c Release --project bench/PushGateway.Benchmarks -- fairness
                 [--endpoints N] [--probes P]
               dotnet run -c Release --project bench/PushGateway.Benchmarks -- rest
                 [--connections C] [--warmup S] [--duration S] [--endpoints N] [--only created,unchanged,get,send] [--cold N] [--statements] [--waits]
        """);
    return 2;
}
