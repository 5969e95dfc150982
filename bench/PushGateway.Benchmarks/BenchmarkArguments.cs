using System.Globalization;

namespace PushGateway.Benchmarks;

/// <summary>Command-line settings of the APNs benchmark.</summary>
internal sealed record BenchmarkArguments(
    int Requests,
    int Concurrency,
    int Connections,
    int ServerStreams,
    int Warmup,
    int PayloadBytes,
    bool AllocationProfile)
{
    public static BenchmarkArguments Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            ["--requests"] = 300_000,
            ["--concurrency"] = 128,
            ["--connections"] = 2,
            ["--streams"] = 64,
            ["--warmup"] = 100_000,
            ["--payload"] = 256,
            ["--alloc-profile"] = 0,
        };

        for (var i = 0; i < args.Count; i += 2)
        {
            if (!values.ContainsKey(args[i]) || i + 1 >= args.Count
                || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var value) || (value < 1 && args[i] != "--alloc-profile"))
            {
                throw new ArgumentException($"Unknown option or bad value near '{args[i]}'.");
            }

            values[args[i]] = value;
        }

        return new BenchmarkArguments(
            values["--requests"], values["--concurrency"], values["--connections"], values["--streams"], values["--warmup"],
            values["--payload"], values["--alloc-profile"] != 0);
    }
}
