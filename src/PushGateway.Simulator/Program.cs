using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PushGateway.Simulator;

/// <summary>Standalone entry point: <c>dotnet run --project src/PushGateway.Simulator</c>.</summary>
internal static class SimulatorProgram
{
    public static async Task Main(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.AddSingleton(ReadOptions(builder.Configuration.GetSection("Simulator")));
        builder.Services.AddHostedService<SimulatorService>();
        await builder.Build().RunAsync();
    }

    /// <summary>The contract's standalone defaults, overridden by the <c>Simulator</c> section (<c>Simulator__X</c>).</summary>
    internal static SimulatorOptions ReadOptions(IConfigurationSection section)
    {
        var options = new SimulatorOptions
        {
            ApnsProductionPort = 2197,
            ApnsSandboxPort = 2198,
            FcmPort = 4443,
            ControlPort = 4480,
            CertificatePath = ".simulator/simulator.pem",
        };
        options.Host = section["Host"] ?? options.Host;
        options.ApnsProductionPort = section.GetValue("ApnsProductionPort", options.ApnsProductionPort);
        options.ApnsSandboxPort = section.GetValue("ApnsSandboxPort", options.ApnsSandboxPort);
        options.FcmPort = section.GetValue("FcmPort", options.FcmPort);
        options.ControlPort = section.GetValue("ControlPort", options.ControlPort);
        options.CertificatePath = section["CertificatePath"] ?? options.CertificatePath;
        options.MaxConcurrentStreams = section.GetValue("MaxConcurrentStreams", options.MaxConcurrentStreams);
        options.RecordRequests = section.GetValue("RecordRequests", options.RecordRequests);
        options.ReceivedCapacity = section.GetValue("ReceivedCapacity", options.ReceivedCapacity);
        options.PublicFcmUrl = section["PublicFcmUrl"];

        // "a,b" in one variable, or the array form Simulator__CertificateHostNames__0.
        var names = new List<string>();
        if (section["CertificateHostNames"] is { } joined)
        {
            names.AddRange(joined.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        foreach (var child in section.GetSection("CertificateHostNames").GetChildren())
        {
            if (!string.IsNullOrWhiteSpace(child.Value))
            {
                names.Add(child.Value.Trim());
            }
        }

        options.CertificateHostNames = names;
        return options;
    }
}

/// <summary>Runs a <see cref="SimulatorHost"/> for the lifetime of the generic host.</summary>
internal sealed class SimulatorService(SimulatorOptions options, ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    private SimulatorHost? _host;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        options.LoggerFactory = loggerFactory;
        _host = await SimulatorHost.StartAsync(options, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) =>
        _host is null ? Task.CompletedTask : _host.StopAsync(cancellationToken);

    public ValueTask DisposeAsync() => _host?.DisposeAsync() ?? ValueTask.CompletedTask;
}
