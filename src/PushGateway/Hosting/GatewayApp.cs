using Microsoft.Extensions.Options;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using OpenTelemetry.Metrics;
using PushGateway.Applications;
using PushGateway.Data;
using PushGateway.Delivery;
using PushGateway.Endpoints;
using PushGateway.Events;
using PushGateway.Messages;
using PushGateway.Projects;
using PushGateway.Quota;
using PushGateway.Retention;
using PushGateway.Sns;
using PushGateway.Topics;
using PushGateway.Users;
using PushGateway.WebConsole;

namespace PushGateway.Hosting;

/// <summary>The composition root: what Program.cs runs and what the integration tests start on a real socket.</summary>
internal static class GatewayApp
{
    public static async Task<WebApplication> BuildAsync(string[] args, Action<WebApplicationBuilder>? configure, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);
        var local = await LocalMode.ApplyAsync(builder, cancellationToken);

        var options = builder.Configuration.GetSection(GatewayOptions.SectionName).Get<GatewayOptions>() ?? new GatewayOptions();
        var connectionString = builder.Configuration.GetConnectionString("PushGateway")!;
        if (string.IsNullOrWhiteSpace(options.AdminKey) || options.AdminKey.Length < 16)
        {
            throw new GatewayStartupException("PushGateway__AdminKey is required (at least 16 characters) when ConnectionStrings__PushGateway is set.");
        }

        if (!SecretBox.TryParseKey(options.EncryptionKey, out var encryptionKey))
        {
            throw new GatewayStartupException(
                "PushGateway__EncryptionKey is required when ConnectionStrings__PushGateway is set: base64 of 32 random bytes (openssl rand -base64 32).");
        }

        if (!SecretBox.TryParseKeys(options.PreviousEncryptionKeys, out var previousKeys, out var previousKeysError))
        {
            throw new GatewayStartupException(
                $"PushGateway__PreviousEncryptionKeys must be a comma-separated list of base64 32-byte keys: {previousKeysError}.");
        }

        var secretBox = new SecretBox(encryptionKey, previousKeys);

        if (builder.Configuration[WebHostDefaults.ServerUrlsKey] is null or "" && builder.Configuration["HTTP_PORTS"] is null or "")
        {
            builder.WebHost.UseUrls("http://127.0.0.1:8080");
        }

        builder.Services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.SectionName);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(secretBox);
        // Repeated statements (key lookups, accepting messages, receipts) are prepared once per connection. Nothing
        // sets session state on these connections (no SET, no session advisory locks, no LISTEN: the listener has its
        // own), so a connection going back to the pool is not reset: that reset was five statements sent with the
        // next command of every request.
        var apiConnections = new NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = 32, NoResetOnClose = true };
        // Named in pg_stat_activity; Api:MaxDatabaseConnections bounds this pool alone (the connection string's Maximum
        // Pool Size bounds every pool). On the 2-core benchmark machine 16 gave GET +19% and sends −18%: not the default.
        apiConnections.ApplicationName ??= "pushgateway-api";
        if (builder.Configuration.GetValue<int?>("Api:MaxDatabaseConnections") is > 0 and var apiMax)
        {
            apiConnections.MaxPoolSize = apiMax;
            apiConnections.MinPoolSize = Math.Min(apiConnections.MinPoolSize, apiMax);
        }

        builder.Services.AddSingleton(_ => new NpgsqlDataSourceBuilder(apiConnections.ConnectionString).Build());
        // LISTEN needs a session of its own on PostgreSQL: behind a transaction-pooling PgBouncer the revocations would
        // go to whichever client next holds the server connection, so this listener takes the wake-up listener's
        // direct connection string when there is one.
        builder.Services.AddSingleton(sp => new PostgresNotifications(
            ListenConnectionString(builder.Configuration) ?? connectionString,
            sp.GetRequiredService<ILogger<PostgresNotifications>>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PostgresNotifications>());
        builder.Services.AddSingleton<ApiKeyCache>();
        builder.Services.AddSingleton<EventWakeupInterceptor>();
        builder.Services.AddDbContextPool<PushGatewayDbContext>((sp, o) => PushGatewayDbContext.Configure(o, sp.GetRequiredService<NpgsqlDataSource>())
            .AddInterceptors(sp.GetRequiredService<EventWakeupInterceptor>()));
        AddWakeup(builder, connectionString);
        builder.Services.AddScoped<EndpointRegistry>();
        builder.Services.AddSingleton<EndpointStore>();
        builder.Services.AddSingleton<DeliverySignal>();
        builder.Services.AddSingleton<MessageAcceptor>();
        builder.Services.AddSingleton<ExpansionSignal>();
        builder.Services.AddSingleton<ExpansionStore>();
        builder.Services.AddOptions<ExpansionOptions>().BindConfiguration(ExpansionOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        // Every replica expands fan-outs (API-only ones too: it is the second half of accepting them).
        if (builder.Configuration.GetValue($"{ExpansionOptions.SectionName}:Enabled", true))
        {
            builder.Services.AddHostedService<FanOutExpander>();
        }
        builder.Services.AddSingleton(sp => WorkerDatabase.Create(connectionString, sp.GetRequiredService<IOptions<DeliveryOptions>>().Value.ResultWriters + 6));
        builder.Services.AddSingleton<DeliveryQueue>();
        builder.Services.AddSingleton<ResultStore>();
        builder.Services.AddSingleton<StaleEndpoints>();
        builder.Services.AddOptions<StaleTokenOptions>().BindConfiguration(StaleTokenOptions.SectionName);
        builder.Services.AddSingleton<MisconfigurationGuard>();
        builder.Services.AddSingleton<DeliveryMetrics>();
        builder.Services.AddSingleton(ProviderOptions.Bind(builder.Configuration));
        builder.Services.AddSingleton<ProviderClients>();
        builder.Services.AddSingleton<QueueStats>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<QueueStats>());
        builder.Services.AddOptions<DeliveryOptions>().BindConfiguration(DeliveryOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<DeliveryOptions>>().Value);
        if (builder.Configuration.GetValue($"{DeliveryOptions.SectionName}:Enabled", true))
        {
            builder.Services.AddHostedService<DeliveryWorker>();
            builder.Services.AddHostedService<DeliverySweeper>();
            builder.Services.AddHostedService<StaleTokenSweeper>();
        }
        builder.Services.AddHostedService<SecretReencryption>();
        builder.Services.AddEvents(builder.Configuration);
        builder.Services.AddRetention(builder.Configuration);
        builder.Services.AddQuota();
        builder.Services.AddConsole();
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemTypes.Customize);
        builder.Services.AddOpenApi(o =>
        {
            o.ShouldInclude = ApiDocumentTransformer.ShouldInclude;
            o.AddSchemaTransformer<OptionalSchemaTransformer>();
            o.AddSchemaTransformer<OmittedWhenNullSchemaTransformer>();
            o.AddOperationTransformer<ApiOperationTransformer>();
            o.AddDocumentTransformer<ApiDocumentTransformer>();
            o.AddDocumentTransformer(OperationsEndpoints.DescribeMetrics);
            o.AddDocumentTransformer(MessagesEndpoints.DescribeBatch);
        });
        // Prometheus text at /metrics: the PushGateway meter (deliveries, queue, providers, webhooks, certificate
        // expiry) plus ASP.NET Core and runtime metrics.
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(DeliveryMetrics.MeterName)
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            .AddPrometheusExporter());
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
            // Request bodies are read with JsonBody.Strict (no numbers in strings); say so in the OpenAPI schemas too.
            // Writing is the same either way.
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        });
        builder.WebHost.ConfigureKestrel(RequestLimits.Configure);
        if (string.Equals(builder.Configuration[$"{GatewayOptions.SectionName}:LogFormat"], "json", StringComparison.OrdinalIgnoreCase))
        {
            // Structured logs: one JSON object per line (same as Logging__Console__FormatterName=json).
            builder.Logging.AddJsonConsole(o => o.UseUtcTimestamp = true);
        }

        var app = builder.Build();
        // Subscribers of PostgreSQL notifications must exist before the listener connects (it LISTENs to their channels).
        app.Services.GetRequiredService<ApiKeyCache>();
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = ex => ex is BadHttpRequestException bad ? bad.StatusCode
                : IsDatabaseUnavailable(ex) ? StatusCodes.Status503ServiceUnavailable
                : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        app.UseRequestLimits();
        app.UseRouting();
        app.UseApiKeyAuthentication();
        app.UseApplicationMetrics();
        app.UseConsole();

        app.MapOpenApi();
        app.MapPrometheusScrapingEndpoint("/metrics").WithMetadata(new PerApplicationMetrics());
        app.MapOperations();
        app.MapProjects();
        app.MapSnsCredentials();
        app.MapApplications();
        app.MapEndpoints();
        app.MapEndpointTransfer();
        app.MapUsers();
        app.MapTopics();
        app.MapMessages();
        app.MapEvents();
        app.MapSns();
        app.MapConsole();

        if (options.MigrateOnStart || local is not null)
        {
            await Migrations.DatabaseMigrator.MigrateAsync(connectionString, cancellationToken);
        }

        await CheckEncryptionKeysAsync(app.Services.GetRequiredService<NpgsqlDataSource>(), secretBox, cancellationToken);

        if (local is not null)
        {
            app.Lifetime.ApplicationStarted.Register(() => PrintLocalBanner(app, local));
            // Stop the private cluster with the gateway (unless it was already running before we started).
            app.Lifetime.ApplicationStopped.Register(() => local.Postgres.DisposeAsync().AsTask().GetAwaiter().GetResult());
        }

        return app;
    }

    /// <summary>
    /// Cross-replica wake-up (LISTEN/NOTIFY on the same database, polling kept as the fallback): every replica sends
    /// wake-ups for the work it commits; it listens only for the loops it runs (an API-only replica does not listen
    /// for deliveries).
    /// </summary>
    /// <summary>
    /// <c>ConnectionStrings__PushGatewayListen</c>: where the listening sessions (wake-up, API-key revocations) connect
    /// when the main connection string goes through a transaction-pooling PgBouncer; null when not set.
    /// </summary>
    private static string? ListenConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString("PushGatewayListen") is { Length: > 0 } listen ? listen : null;

    private static void AddWakeup(WebApplicationBuilder builder, string connectionString)
    {
        builder.Services.AddOptions<WakeupOptions>().BindConfiguration(WakeupOptions.SectionName);
        var configuration = builder.Configuration;
        if (!configuration.GetValue($"{WakeupOptions.SectionName}:Enabled", true))
        {
            return;
        }

        builder.Services.AddSingleton(_ => new WakeupConnections(connectionString, ListenConnectionString(configuration)));
        builder.Services.AddSingleton<WakeupPublisher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WakeupPublisher>());
        var deliveries = configuration.GetValue($"{DeliveryOptions.SectionName}:Enabled", true);
        var expansions = configuration.GetValue($"{ExpansionOptions.SectionName}:Enabled", true);
        var events = configuration.GetValue($"{EventsOptions.SectionName}:Enabled", true);
        if (deliveries || expansions || events)
        {
            builder.Services.AddSingleton(sp => new WakeupListener(
                sp.GetRequiredService<WakeupConnections>(),
                [
                    .. deliveries ? [sp.GetRequiredService<DeliverySignal>()] : Array.Empty<WorkSignal>(),
                    .. expansions ? [sp.GetRequiredService<ExpansionSignal>()] : Array.Empty<WorkSignal>(),
                    .. events ? [sp.GetRequiredService<EventSignal>()] : Array.Empty<WorkSignal>(),
                ],
                sp.GetRequiredService<IOptions<WakeupOptions>>(),
                sp.GetRequiredService<ILogger<WakeupListener>>()));
            builder.Services.AddHostedService(sp => sp.GetRequiredService<WakeupListener>());
        }
    }

    /// <summary>
    /// Refuses to start when stored secrets were sealed under a key that is not configured: sending would fail for
    /// every such application, so the operator must fix the keys first rather than discover it on the first send.
    /// A database that is not reachable yet (or not migrated) does not stop the start; the delivery path then reports.
    /// </summary>
    private static async Task CheckEncryptionKeysAsync(NpgsqlDataSource dataSource, SecretBox secrets, CancellationToken cancellationToken)
    {
        int undecryptable;
        try
        {
            undecryptable = await SecretReencryption.CountUndecryptableAsync(dataSource, secrets, cancellationToken);
        }
        catch (Exception ex) when (IsDatabaseUnavailable(ex))
        {
            return;
        }

        if (undecryptable > 0)
        {
            throw new GatewayStartupException(
                $"{undecryptable} application(s) or SNS access key(s) have secrets (provider credentials, webhook secrets, SNS secret keys) encrypted under a key that is not configured " +
                "(key id " + Convert.ToHexStringLower(secrets.CurrentKeyId) + " is the current one). Set PushGateway__EncryptionKey to the key they were " +
                "encrypted with, or keep it and add the old key to PushGateway__PreviousEncryptionKeys (comma-separated) so they are re-encrypted. " +
                "No application was changed.");
        }
    }

    /// <summary>The database is down or restarting (EF may wrap the Npgsql exception): 503, so clients retry.</summary>
    internal static bool IsDatabaseUnavailable(Exception exception)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or System.Data.Common.DbException)
            {
                return true;
            }
        }

        return false;
    }

    private static void PrintLocalBanner(WebApplication app, LocalMode.Settings local)
    {
        var urls = string.Join(", ", app.Urls);
        Console.WriteLine($$"""

            PushGateway is running in local mode.
              API:        {{urls}}   (OpenAPI: {{app.Urls.FirstOrDefault()}}/openapi/v1.json)
              Admin key:  {{local.AdminKey}}
              Data:       {{local.DataDirectory}} (PostgreSQL on 127.0.0.1:{{local.Postgres.Port}}; keys kept beside it)
            Create a project:  curl -s -X POST {{app.Urls.FirstOrDefault()}}/v1/projects -H "Authorization: Bearer {{local.AdminKey}}" -H "Content-Type: application/json" -d '{"name":"my-project"}'

            """);
    }
}
