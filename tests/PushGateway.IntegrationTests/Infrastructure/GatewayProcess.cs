using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PushGateway.IntegrationTests.Infrastructure;

/// <summary>
/// The gateway as its own operating-system process (the build output next to the tests), for what an in-process
/// host cannot show: being killed hard, or two replicas sharing one database.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private GatewayProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>The operating-system process id (the wake-up listener's <c>application_name</c> carries it).</summary>
    public int ProcessId => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<GatewayProcess> StartAsync(IDictionary<string, string?> settings, CancellationToken cancellationToken)
    {
        var port = FreePort();
        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        startInfo.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "PushGateway.dll"));
        startInfo.Environment["Urls"] = $"http://127.0.0.1:{port}";
        startInfo.Environment["Logging__LogLevel__Default"] = "Warning";
        startInfo.Environment["DOTNET_gcServer"] = "0";
        // The tests' webhook receivers listen on 127.0.0.1; only loopback is ever connected to.
        startInfo.Environment["Events__AllowPrivateNetworks"] = "true";
        foreach (var (key, value) in settings)
        {
            startInfo.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(startInfo)!;
        var gateway = new GatewayProcess(process, new Uri($"http://127.0.0.1:{port}/"));
        process.OutputDataReceived += (_, e) => gateway.Append(e.Data);
        process.ErrorDataReceived += (_, e) => gateway.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var client = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The gateway exited with {process.ExitCode}: {gateway.Output}");
            }

            try
            {
                if ((await client.GetAsync("readyz", cancellationToken)).StatusCode == HttpStatusCode.OK)
                {
                    return gateway;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(200, cancellationToken);
        }

        await gateway.DisposeAsync();
        throw new TimeoutException("The gateway did not get ready: " + gateway.Output);
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing. What a crash looks like.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await Task.CompletedTask;
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < 200_000)
            {
                _output.AppendLine(line);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
