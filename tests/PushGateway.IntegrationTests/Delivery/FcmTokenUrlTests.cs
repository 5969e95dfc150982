using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.Simulator;
using PushGateway.TestSupport;

namespace PushGateway.IntegrationTests.Delivery;

/// <summary>
/// FCM access tokens come from <c>Fcm__TokenUrl</c> only: a service account's <c>token_uri</c> (the tenant's text) is
/// never called, and what the configured token endpoint says never reaches a tenant beyond a fixed code.
/// </summary>
public sealed class FcmTokenUrlTests(DeliveryGateway gateway) : IClassFixture<DeliveryGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ServiceAccountWithAnotherTokenUri_IsAccepted_ThatUrlIsNeverCalled_DeliveryUsesFcmTokenUrl()
    {
        // A second listener that would hand out a token to anyone: the gateway must not even ask it.
        await using var elsewhere = await FakeTokenEndpoint.StartAsync(Ct);
        elsewhere.Status = 200;
        elsewhere.Body = """{"access_token":"from-token-uri","expires_in":3599,"token_type":"Bearer"}""";
        var project = await gateway.NewProjectAsync(Ct);
        var account = gateway.Simulator.State.AddFcmServiceAccount(new FcmServiceAccountRequest { ProjectId = "sim-project" });
        var json = JsonNode.Parse(account.ServiceAccountJson!)!.AsObject();
        json["token_uri"] = elsewhere.Url.AbsoluteUri;
        var created = await project.Client.PostAsJsonAsync("v1/applications", new
        {
            name = "android",
            platform = "fcm",
            credentials = new { type = "serviceAccount", serviceAccountJson = json.ToJsonString() },
        }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var appId = (await created.ReadObjectAsync(Ct)).Id();
        var token = TestCredentials.FcmToken();
        var endpoint = await project.Client.CreateEndpointAsync(appId, token, Ct);
        var tokenRequestsBefore = gateway.Simulator.State.GetCounters().Fcm.TokenRequests;

        var messageId = await DeliveryGateway.SendAsync(project.Client, new { target = new { endpointId = endpoint.Id() }, notification = new { title = "t" } }, Ct);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);

        Assert.Equal(1, message["counts"]!["delivered"]!.GetValue<long>());
        Assert.Single(gateway.Simulator.State.GetReceived("fcm", token).Items);
        Assert.Equal(0, elsewhere.Requests);
        Assert.True(gateway.Simulator.State.GetCounters().Fcm.TokenRequests > tokenRequestsBefore, "the configured token URL was not asked");
    }
}

/// <summary>The gateway's token endpoint answers errors full of text a tenant must not see.</summary>
public sealed class FcmTokenEndpointErrorTests(FcmTokenEndpointErrorTests.Gateway gateway) : IClassFixture<FcmTokenEndpointErrorTests.Gateway>
{
    private const string Secret = "SECRET-b41d-internal";

    public sealed class Gateway : DeliveryGateway
    {
        public FakeTokenEndpoint TokenEndpoint { get; private set; } = null!;

        public ConcurrentQueue<string> Logs { get; } = new();

        protected override IDictionary<string, string?> Settings
        {
            get
            {
                var settings = base.Settings;
                settings["Fcm:TokenUrl"] = TokenEndpoint.Url.ToString();
                settings["Logging:LogLevel:Default"] = "Trace";
                return settings;
            }
        }

        protected override void ConfigureBuilder(WebApplicationBuilder builder)
        {
            builder.Logging.SetMinimumLevel(LogLevel.Trace);
            builder.Logging.AddProvider(new LogCapture(Logs));
        }

        public override async ValueTask InitializeAsync()
        {
            TokenEndpoint = await FakeTokenEndpoint.StartAsync(CancellationToken.None);
            await base.InitializeAsync();
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            await TokenEndpoint.DisposeAsync();
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(400, "application/json", """{"error":"invalid_grant","error_description":"SECRET-b41d-internal: root password is hunter2"}""", "oauth:invalid_grant")]
    [InlineData(401, "text/html", "<html><body>SECRET-b41d-internal metadata page</body></html>", "oauth:http_401")]
    [InlineData(400, "application/json", """{"error":"SECRET-b41d-internal","error_description":"SECRET-b41d-internal"}""", "oauth:http_400")]
    public async Task TokenEndpointRefusal_DisablesWithAFixedCode_NoEndpointTextInReceiptApplicationOrLogs(int status, string contentType, string body, string code)
    {
        gateway.TokenEndpoint.Status = status;
        gateway.TokenEndpoint.ContentType = contentType;
        gateway.TokenEndpoint.Body = body;
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateFcmAppAsync(project.Client, Ct);
        var token = TestCredentials.FcmToken();
        var endpoint = await project.Client.CreateEndpointAsync(appId, token, Ct);
        var requestsBefore = gateway.TokenEndpoint.Requests;

        var messageId = await DeliveryGateway.SendAsync(project.Client, new { target = new { endpointId = endpoint.Id() }, notification = new { title = "t" } }, Ct);
        await DeliveryGateway.WaitUntilAsync(async () =>
            !(await project.Client.GetFromJsonAsync<JsonObject>($"v1/applications/{appId}", Ct))!["enabled"]!.GetValue<bool>(), Ct, what: "the application to be disabled");

        Assert.True(gateway.TokenEndpoint.Requests > requestsBefore);
        var app = await (await project.Client.GetAsync($"v1/applications/{appId}", Ct)).Content.ReadAsStringAsync(Ct);
        Assert.Equal("fcm:0:" + code, JsonNode.Parse(app)!["disabledReason"].Str());
        var deliveries = await (await project.Client.GetAsync($"v1/messages/{messageId}/deliveries", Ct)).Content.ReadAsStringAsync(Ct);
        var delivery = Assert.Single(JsonNode.Parse(deliveries)!["items"]!.AsArray())!;
        Assert.Equal(code, delivery["provider"]?["reason"]?.GetValue<string>());
        Assert.DoesNotContain(Secret, app, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, deliveries, StringComparison.Ordinal);
        Assert.DoesNotContain(gateway.Logs, line => line.Contains(Secret, StringComparison.Ordinal));
        Assert.Empty(gateway.Simulator.State.GetReceived("fcm", token).Items);
    }

    private sealed class LogCapture(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(lines, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> lines, string category) : ILogger
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

                lines.Enqueue(line);
            }
        }
    }
}
