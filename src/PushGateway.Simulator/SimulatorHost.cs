using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PushGateway.Simulator.Apns;
using PushGateway.Simulator.Control;
using PushGateway.Simulator.Fcm;
using PushGateway.Simulator.Security;

namespace PushGateway.Simulator;

/// <summary>
/// The APNs + FCM simulator on real Kestrel sockets: APNs production and sandbox (HTTPS, HTTP/2 only), FCM and its
/// OAuth token endpoint (HTTPS, HTTP/1.1 and HTTP/2), and the control API (plain HTTP/1.1).
/// </summary>
public sealed partial class SimulatorHost : IAsyncDisposable
{
    /// <summary>Marks FCM connections in the connection items.</summary>
    private static readonly object FcmMarker = new();

    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping;
    private readonly bool _deleteCertificate;
    private int _disposed;

    private SimulatorHost(
        WebApplication app, CancellationTokenSource stopping, SimulatorState state, X509Certificate2 certificate,
        string certificatePath, bool deleteCertificate, Uri production, Uri sandbox, Uri fcm, Uri control)
    {
        _app = app;
        _stopping = stopping;
        State = state;
        Certificate = certificate;
        CertificatePath = certificatePath;
        _deleteCertificate = deleteCertificate;
        ApnsProductionUrl = production;
        ApnsSandboxUrl = sandbox;
        FcmUrl = fcm;
        ControlUrl = control;
    }

    /// <summary>Plays <c>https://api.push.apple.com/</c>.</summary>
    public Uri ApnsProductionUrl { get; }

    /// <summary>Plays <c>https://api.sandbox.push.apple.com/</c>.</summary>
    public Uri ApnsSandboxUrl { get; }

    /// <summary>Plays <c>https://fcm.googleapis.com/</c>.</summary>
    public Uri FcmUrl { get; }

    /// <summary>Google's OAuth token endpoint: <c>{FcmUrl}token</c>.</summary>
    public Uri FcmTokenUrl => new(FcmUrl, "token");

    /// <summary>The plain HTTP control API.</summary>
    public Uri ControlUrl { get; }

    /// <summary>PEM file of the server certificate (public part): what clients add to their trust.</summary>
    public string CertificatePath { get; }

    /// <summary>The server certificate (with its private key; export only the public part).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Programmatic access to everything the control API does.</summary>
    public SimulatorState State { get; }

    /// <summary>Starts the four listeners and returns once they accept connections.</summary>
    public static async Task<SimulatorHost> StartAsync(SimulatorOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var time = options.TimeProvider ?? TimeProvider.System;
        var loggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;

        var hostNames = new List<string> { "localhost" };
        hostNames.AddRange(options.CertificateHostNames);
        var deleteCertificate = options.CertificatePath is null;
        var certificatePath = Path.GetFullPath(options.CertificatePath
            ?? Path.Combine(Path.GetTempPath(), $"pushgateway-simulator-{Guid.NewGuid():N}.pem"));
        Directory.CreateDirectory(Path.GetDirectoryName(certificatePath)!);
        X509Certificate2 certificate;
        if (deleteCertificate)
        {
            certificate = CertificateFactory.CreateServerCertificate(hostNames, time);
            await File.WriteAllTextAsync(certificatePath, certificate.ExportCertificatePem() + "\n", cancellationToken);
        }
        else
        {
            // A configured path outlives the process: keep its certificate while valid, so clients that trust it
            // (the gateway in compose) keep working across `docker compose restart simulator`.
            certificate = ServerCertificateStore.LoadOrCreate(certificatePath, hostNames, time);
        }

        var listenerAddress = ParseAddress(options.Host);
        Uri? fcmUrl = null;
        var state = new SimulatorState(
            new SimulatorSettings
            {
                MaxConcurrentStreams = options.MaxConcurrentStreams,
                RecordRequests = options.RecordRequests,
                ReceivedCapacity = options.ReceivedCapacity,
            },
            time,
            () => options.PublicFcmUrl is { Length: > 0 } publicUrl
                ? publicUrl.TrimEnd('/') + "/token"
                : new Uri(fcmUrl!, "token").ToString());

        var stopping = new CancellationTokenSource();
        var timing = new AnswerTiming(stopping.Token);
        var apns = new ApnsHandler(state, timing);
        var fcm = new FcmHandler(state, timing);

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(SimulatorHost).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddRouting();

        // The embedding process owns Ctrl+C and SIGTERM; this inner host must not hook them.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        });

        ListenOptions? productionListener = null, sandboxListener = null, fcmListener = null, controlListener = null;
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.Http2.MaxStreamsPerConnection = options.MaxConcurrentStreams;

            // APNs keeps connections for hours; Kestrel's 130 s default would GOAWAY idle client pools mid-test.
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromHours(1);

            kestrel.Listen(listenerAddress, options.ApnsProductionPort, listen =>
            {
                ConfigureApnsListener(listen, ApnsEnvironment.Production, certificate, state);
                productionListener = listen;
            });
            kestrel.Listen(listenerAddress, options.ApnsSandboxPort, listen =>
            {
                ConfigureApnsListener(listen, ApnsEnvironment.Sandbox, certificate, state);
                sandboxListener = listen;
            });
            kestrel.Listen(listenerAddress, options.FcmPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = certificate,
                    SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                });
                listen.Use(next => connection =>
                {
                    connection.Items[ApnsConnection.ItemKey] = FcmMarker;
                    return next(connection);
                });
                fcmListener = listen;
            });
            kestrel.Listen(listenerAddress, options.ControlPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                controlListener = listen;
            });
        });

        var app = builder.Build();
        var kestrelOptions = app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value;

        // Kestrel reads Limits.Http2.MaxStreamsPerConnection when it creates each HTTP/2 connection, so a change
        // here reaches every connection opened afterwards (verified by a test).
        state.MaxConcurrentStreamsChanged = value => kestrelOptions.Limits.Http2.MaxStreamsPerConnection = value;

        // Provider traffic is dispatched by the listener its connection came in on, before routing runs.
        app.Use((context, next) =>
        {
            var items = context.Features.Get<IConnectionItemsFeature>()?.Items;
            if (items is not null && items.TryGetValue(ApnsConnection.ItemKey, out var tag))
            {
                if (tag is ApnsConnection connection)
                {
                    return apns.HandleAsync(context, connection);
                }

                if (ReferenceEquals(tag, FcmMarker))
                {
                    return fcm.HandleAsync(context);
                }
            }

            return next(context);
        });
        app.UseRouting();
        app.MapControl(state);

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            stopping.Dispose();
            certificate.Dispose();
            throw;
        }

        var urlHost = UrlHost(listenerAddress);
        var production = new Uri($"https://{urlHost}:{productionListener!.IPEndPoint!.Port}/");
        var sandbox = new Uri($"https://{urlHost}:{sandboxListener!.IPEndPoint!.Port}/");
        fcmUrl = new Uri($"https://{urlHost}:{fcmListener!.IPEndPoint!.Port}/");
        var control = new Uri($"http://{urlHost}:{controlListener!.IPEndPoint!.Port}/");

        var host = new SimulatorHost(app, stopping, state, certificate, certificatePath, deleteCertificate, production, sandbox, fcmUrl, control);
        var log = loggerFactory.CreateLogger<SimulatorHost>();
        LogStarted(log, production, sandbox, fcmUrl, host.FcmTokenUrl, control, certificatePath);
        return host;
    }

    /// <summary>Stops the listeners; hanging requests are released first.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _stopping.CancelAsync();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await StopAsync();
        }
        finally
        {
            await _app.DisposeAsync();
            _stopping.Dispose();
            Certificate.Dispose();
            if (_deleteCertificate)
            {
                try
                {
                    File.Delete(CertificatePath);
                }
                catch (IOException)
                {
                    // A temp file left behind is harmless.
                }
            }
        }
    }

    private static void ConfigureApnsListener(ListenOptions listen, ApnsEnvironment environment, X509Certificate2 certificate, SimulatorState state)
    {
        listen.Protocols = HttpProtocols.Http2;
        listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = certificate,
            SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,

            // Ask for a provider certificate but accept any at the TLS layer: whether it is registered, and for
            // which environment, is answered per request with Apple's reasons.
            ClientCertificateMode = ClientCertificateMode.AllowCertificate,
            ClientCertificateValidation = static (_, _, _) => true,
        });
        listen.Use(next => connection =>
        {
            connection.Items[ApnsConnection.ItemKey] =
                new ApnsConnection(environment, connection.Features.Get<IConnectionLifetimeNotificationFeature>());
            Interlocked.Increment(ref state.Counters.ApnsConnectionsOpened);
            return next(connection);
        });
    }

    private static IPAddress ParseAddress(string host) => host switch
    {
        null or "" or "localhost" => IPAddress.Loopback,
        "*" or "+" => IPAddress.Any,
        _ => IPAddress.Parse(host),
    };

    private static string UrlHost(IPAddress address)
    {
        if (address.Equals(IPAddress.Any))
        {
            return "127.0.0.1";
        }

        if (address.Equals(IPAddress.IPv6Any))
        {
            return "[::1]";
        }

        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Simulator listening: APNs production {Production}, APNs sandbox {Sandbox}, FCM {Fcm} (token endpoint {TokenUrl}), control {Control}; server certificate written to {CertificatePath}")]
    private static partial void LogStarted(ILogger logger, Uri production, Uri sandbox, Uri fcm, Uri tokenUrl, Uri control, string certificatePath);

    /// <summary>A host lifetime that waits for nobody and listens to no signal.</summary>
    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
