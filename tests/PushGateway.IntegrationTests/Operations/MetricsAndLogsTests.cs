using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.Simulator;

namespace PushGateway.IntegrationTests.Operations;

public sealed partial class MetricsAndLogsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)$", RegexOptions.Multiline)]
    private static partial Regex SampleLine();

    /// <summary>Value of the first sample named <paramref name="name"/> whose labels include all of <paramref name="labels"/>.</summary>
    private static double? Sample(string text, string name, params string[] labels)
    {
        foreach (Match m in SampleLine().Matches(text))
        {
            if (m.Groups["name"].Value == name && labels.All(l => m.Groups["labels"].Value.Contains(l, StringComparison.Ordinal)))
            {
                return double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    [Fact]
    public async Task Metrics_AfterAKnownSequenceOfSends_HaveTheRightValues()
    {
        await using var simulator = await SimulatorHost.StartAsync(new SimulatorOptions(), Ct);
        await using var webhook = await PushGateway.IntegrationTests.Events.WebhookReceiver.StartAsync();
        var database = await PostgresServer.Instance.CreateDatabaseAsync(Ct);
        // Its own process: the meters are process-wide, so no other test's deliveries are counted here.
        await using var gateway = await GatewayProcess.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:PushGateway"] = database,
            ["PushGateway:AdminKey"] = TestGateway.AdminKey,
            ["PushGateway:EncryptionKey"] = TestGateway.EncryptionKey,
            ["PushGateway:MigrateOnStart"] = "true",
            ["Apns:ProductionUrl"] = simulator.ApnsProductionUrl.ToString(),
            ["Providers:TrustedCertificatePath"] = simulator.CertificatePath,
            ["Delivery:RetryBaseDelay"] = "00:00:00.100",
            ["Delivery:PollInterval"] = "00:00:00.050",
            ["Delivery:StatsInterval"] = "00:00:00.200",
        }, Ct);
        using var http = new HttpClient { BaseAddress = gateway.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestGateway.AdminKey);
        var projectId = (await (await http.PostAsJsonAsync("v1/projects", new { name = "metrics" }, Ct)).ReadObjectAsync(Ct)).Id();
        var key = (await (await http.PostAsJsonAsync($"v1/projects/{projectId}/api-keys", new { name = "k" }, Ct)).ReadObjectAsync(Ct))["key"].Str();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

        var apnsKey = simulator.State.AddApnsKey(new ApnsKeyRequest { TeamId = "TEAM123456" });
        var appId = (await (await http.PostAsJsonAsync("v1/applications", new
        {
            name = "ios",
            platform = "apns",
            environment = "production",
            credentials = new { type = "token", teamId = apnsKey.TeamId, keyId = apnsKey.KeyId, privateKey = apnsKey.PrivateKeyPem, bundleId = "com.example.app" },
            events = new { url = webhook.Url.ToString(), secret = webhook.Secret, types = new[] { "endpointCreated" } },
        }, Ct)).ReadObjectAsync(Ct)).Id();
        var certificate = simulator.State.AddApnsCertificate(new ApnsCertificateRequest { BundleId = "com.example.cert" });
        var certAppResponse = await http.PostAsJsonAsync("v1/applications", new
        {
            name = "ios-cert",
            platform = "apns",
            environment = "production",
            credentials = new { type = "certificate", certificate = certificate.Pkcs12Base64, password = certificate.Password },
        }, Ct);
        var certAppId = (await certAppResponse.ReadObjectAsync(Ct)).Id();

        var ok = TestCredentials.ApnsTokenHex();
        var dead = TestCredentials.ApnsTokenHex();
        var flaky = TestCredentials.ApnsTokenHex();
        simulator.State.SetTokenBehavior(dead, new TokenBehavior { Preset = TokenPresets.Unregistered, Timestamp = DateTimeOffset.UtcNow.AddSeconds(10).ToUnixTimeMilliseconds() });
        simulator.State.SetTokenBehavior(flaky, new TokenBehavior { Preset = TokenPresets.ServiceUnavailable, Times = 1 });
        foreach (var token in new[] { ok, dead, flaky })
        {
            var endpoint = await http.CreateEndpointAsync(appId, token, Ct);
            var messageId = await DeliveryGateway.SendAsync(http, new { target = new { endpointId = endpoint.Id() }, notification = new { title = "m" } }, Ct);
            await DeliveryGateway.WaitForMessageAsync(http, messageId, Ct);
        }

        // The per-application series (certificate expiry by application) need the admin key.
        using var adminClient = new HttpClient { BaseAddress = gateway.BaseAddress };
        adminClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestGateway.AdminKey);
        string text = "";
        await DeliveryGateway.WaitUntilAsync(async () =>
        {
            text = await adminClient.GetStringAsync("metrics", Ct);
            return Sample(text, "pushgateway_apns_certificate_expiry_seconds", certAppId.ToString()) is not null
                && Sample(text, "pushgateway_queue_depth", "state=\"pending\"") == 0
                && Sample(text, "pushgateway_webhook_deliveries_total", "outcome=\"delivered\"") == 3;
        }, Ct, what: "the queue gauges and three webhooks (one endpointCreated per endpoint)");

        var ours = string.Join("\n", text.Split('\n').Where(l => l.StartsWith("pushgateway_", StringComparison.Ordinal)));
        TestContext.Current.TestOutputHelper?.WriteLine(ours);
        Assert.True(Sample(text, "pushgateway_deliveries_total", "outcome=\"delivered\"", "platform=\"apns\"") == 2, ours);
        Assert.Equal(1, Sample(text, "pushgateway_deliveries_total", "outcome=\"failed\"", "platform=\"apns\"", "reason=\"Unregistered\""));
        Assert.Equal(1, Sample(text, "pushgateway_delivery_retries_total", "platform=\"apns\""));
        Assert.Equal(1, Sample(text, "pushgateway_endpoints_disabled_total", "reason=\"apns:410:Unregistered\""));
        Assert.Equal(3, Sample(text, "pushgateway_delivery_latency_seconds_count", "platform=\"apns\""));
        Assert.Equal(4, Sample(text, "pushgateway_provider_request_duration_seconds_count", "provider=\"apns\""));
        Assert.Equal(0, Sample(text, "pushgateway_queue_depth", "state=\"held\""));
        var expiry = Sample(text, "pushgateway_apns_certificate_expiry_seconds", certAppId.ToString())!.Value;
        Assert.InRange(expiry, TimeSpan.FromDays(300).TotalSeconds, TimeSpan.FromDays(367).TotalSeconds);

        // Readiness shows the same health.
        var ready = await adminClient.GetFromJsonAsync<JsonObject>("readyz", Ct);
        Assert.Equal(0, ready!["queue"]!["pending"]!.GetValue<long>());
        Assert.Empty(ready["credentials"]!["disabledApplications"]!.AsArray());
    }

    internal sealed class LogCapture : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(LogCapture owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var line = $"{logLevel} {category} {formatter(state, exception)} {exception}";
                if (state is IEnumerable<KeyValuePair<string, object?>> values)
                {
                    line += " " + string.Join(" ", values.Select(v => $"{v.Key}={v.Value}"));
                }

                owner.Lines.Enqueue(line);
            }
        }
    }

    private sealed class CapturingGateway : DeliveryGateway
    {
        public LogCapture Capture { get; } = new();

        protected override IDictionary<string, string?> Settings
        {
            get
            {
                var settings = base.Settings;
                settings["Logging:LogLevel:Default"] = "Trace";
                // appsettings.json quiets these categories for production; this test wants every line there is.
                foreach (var category in new[] { "PushGateway", "Microsoft", "Microsoft.AspNetCore", "Microsoft.AspNetCore.Hosting.Diagnostics", "Microsoft.AspNetCore.Routing",
                    "Microsoft.EntityFrameworkCore", "Microsoft.EntityFrameworkCore.Database.Command", "Microsoft.Hosting.Lifetime", "Npgsql", "System.Net.Http.HttpClient" })
                {
                    settings[$"Logging:LogLevel:{category}"] = "Trace";
                }

                return settings;
            }
        }

        protected override void ConfigureBuilder(WebApplicationBuilder builder)
        {
            builder.Logging.SetMinimumLevel(LogLevel.Trace);
            builder.Logging.AddProvider(Capture);
        }
    }

    [Fact]
    public async Task Logs_NeverContainTokensOrSecrets_EvenAtTraceLevel()
    {
        await using var gateway = new CapturingGateway();
        await gateway.InitializeAsync();
        var project = await gateway.NewProjectAsync(Ct);
        var apnsKey = gateway.Simulator.State.AddApnsKey(new ApnsKeyRequest { TeamId = "TEAM123456" });
        var appId = (await (await project.Client.PostAsJsonAsync("v1/applications", new
        {
            name = "ios",
            platform = "apns",
            environment = "production",
            credentials = new { type = "token", teamId = apnsKey.TeamId, keyId = apnsKey.KeyId, privateKey = apnsKey.PrivateKeyPem, bundleId = "com.example.app" },
            events = new { url = "http://127.0.0.1:9/hook", secret = "webhook-secret-0123456789" },
        }, Ct)).ReadObjectAsync(Ct)).Id();
        var account = gateway.Simulator.State.AddFcmServiceAccount(new FcmServiceAccountRequest { ProjectId = "logs" });
        var fcmApp = (await (await project.Client.PostAsJsonAsync("v1/applications", new
        {
            name = "android",
            platform = "fcm",
            credentials = new { type = "serviceAccount", serviceAccountJson = account.ServiceAccountJson },
        }, Ct)).ReadObjectAsync(Ct)).Id();

        var dead = TestCredentials.ApnsTokenHex();
        gateway.Simulator.State.SetTokenBehavior(dead, new TokenBehavior { Preset = TokenPresets.Unregistered, Timestamp = DateTimeOffset.UtcNow.AddSeconds(10).ToUnixTimeMilliseconds() });
        var (_, registered) = await project.Client.RegisterAsync(appId, new { token = dead, userId = "secret-user" }, Ct);
        var deadEndpoint = registered["endpoint"]!.AsObject();
        var fcmToken = TestCredentials.FcmToken();
        var fcmEndpoint = await project.Client.CreateEndpointAsync(fcmApp, fcmToken, Ct);
        foreach (var endpoint in new[] { deadEndpoint, fcmEndpoint })
        {
            var id = await DeliveryGateway.SendAsync(project.Client, new { target = new { endpointId = endpoint.Id() }, notification = new { title = "t" } }, Ct);
            await DeliveryGateway.WaitForMessageAsync(project.Client, id, Ct);
        }

        var logs = string.Join("\n", gateway.Capture.Lines);
        Assert.Contains("disabled", logs, StringComparison.Ordinal);
        Assert.Contains(PushGateway.Delivery.DeliveryLog.TokenHash(dead), logs, StringComparison.Ordinal);
        foreach (var secret in new[]
        {
            dead, fcmToken, project.Key, TestGateway.AdminKey, TestGateway.EncryptionKey, "webhook-secret-0123456789",
            apnsKey.PrivateKeyPem!.Split('\n')[1], "PRIVATE KEY",
        })
        {
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
        }
    }
}
