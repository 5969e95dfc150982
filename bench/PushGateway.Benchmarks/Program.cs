using PushGateway.Benchmarks;

return args is ["apns", .. var rest]
    ? await ApnsBenchmark.RunAsync(BenchmarkArguments.Parse(rest))
    : Usage();

static int Usage()
{
    Console.Error.WriteLine("""
        usage: dotnet run -c Release --project bench/PushGateway.Benchmarks -- apns
                 [--requests N] [--concurrency C] [--connections K] [--streams S] [--warmup W] [--payload BYTES] [--alloc-profile 1]
        """);
    return 2;
}
