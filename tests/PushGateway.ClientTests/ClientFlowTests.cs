using System.Security.Cryptography;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;
using PushGateway.Client;
using PushGateway.Client.Models;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.Simulator;

namespace PushGateway.ClientTests;

/// <summary>The README's walkthrough, written with the generated client only, against the gateway and the simulator.</summary>
public sealed class ClientFlowTests(DeliveryGateway gateway) : IClassFixture<DeliveryGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ReadmeFlow_ProjectKeyApplicationRegistrationSendReceipts()
    {
        var admin = Client(TestGateway.AdminKey);
        var project = await admin.V1.Projects.PostAsync(new CreateProjectRequest { Name = "demo" }, cancellationToken: Ct);
        var created = await admin.V1.Projects[project!.Id!.Value].ApiKeys.PostAsync(new CreateApiKeyRequest { Name = "backend" }, cancellationToken: Ct);
        Assert.StartsWith("pgk_", created!.Key, StringComparison.Ordinal);
        var backend = Client(created.Key!);

        var simulatorKey = gateway.Simulator.State.AddApnsKey(new ApnsKeyRequest { TeamId = "ABCDE12345" });
        var app = await backend.V1.Applications.PostAsync(new CreateApplicationRequest
        {
            Name = "ios",
            Platform = "apns",
            Environment = "sandbox",
            Credentials = new CredentialsRequest
            {
                Type = "token",
                TeamId = simulatorKey.TeamId,
                KeyId = simulatorKey.KeyId,
                PrivateKey = simulatorKey.PrivateKeyPem,
                BundleId = "com.example.app",
            },
        }, cancellationToken: Ct);
        Assert.Equal("sandbox", app!.Environment);

        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var registration = await backend.V1.Applications[app.Id!.Value].Registrations.PostAsync(
            new RegistrationRequest { Token = token, UserId = "alice" }, cancellationToken: Ct);
        Assert.Equal("created", registration!.Outcome);
        Assert.Equal("alice", registration.Endpoint!.UserId);

        var accepted = await backend.V1.Messages.PostAsync(new MessageRequest
        {
            Target = new MessageTarget { UserId = "alice" },
            Notification = new NotificationRequest { Title = "Hello", Body = "from PushGateway" },
        }, cancellationToken: Ct);
        // A user target is a fan-out: its target count is known once it is expanded, after the 202.
        Assert.Null(accepted!.TargetCount);

        var message = await WaitForCompletionAsync(backend, accepted.Id!.Value);
        Assert.Equal(1, message.TargetCount);
        Assert.Equal(1, message.Counts!.Delivered);
        var delivery = Assert.Single((await backend.V1.Messages[accepted.Id.Value].Deliveries.GetAsync(cancellationToken: Ct))!.Items!);
        Assert.Equal("delivered", delivery.State);
        Assert.Equal(registration.Endpoint.Id, delivery.EndpointId);
        Assert.Equal(200, delivery.Provider!.Status);
        Assert.False(string.IsNullOrEmpty(delivery.Provider.Id));

        // What "Apple" received: the notification, on the sandbox, for this token.
        var received = Assert.Single(gateway.Simulator.State.GetReceived("apns", token).Items);
        Assert.Equal("sandbox", received.Environment);
        Assert.Equal("Hello", received.Body!.Value.GetProperty("aps").GetProperty("alert").GetProperty("title").GetString());

        // A batch: each item answered on its own, an invalid one as the problem it is.
        var batch = await backend.V1.Messages.Batch.PostAsync(new BatchRequest
        {
            Messages =
            [
                new MessageRequest { Target = new MessageTarget { EndpointId = registration.Endpoint.Id }, Notification = new NotificationRequest { Title = "Shipped" } },
                new MessageRequest { Target = new MessageTarget { Topic = "no-such-topic" }, Notification = new NotificationRequest { Title = "News" } },
            ],
        }, cancellationToken: Ct);
        Assert.Equal("accepted", batch!.Items![0].Status);
        Assert.Equal("not-found", batch.Items[1].Error!.Type);
        await WaitForCompletionAsync(backend, batch.Items[0].Id!.Value);
        Assert.Equal(2, gateway.Simulator.State.GetReceived("apns", token).Items.Count);
    }

    [Fact]
    public async Task ProblemResponses_AreThrownAsTheDocumentedProblem()
    {
        var admin = Client(TestGateway.AdminKey);
        var missing = await Assert.ThrowsAsync<ProblemDetails>(() => admin.V1.Projects[Guid.NewGuid()].GetAsync(cancellationToken: Ct));
        Assert.Equal("not-found", missing.Type);
        Assert.Equal(404, missing.Status);

        // The admin key on a project route: the 403 the document declares.
        var forbidden = await Assert.ThrowsAsync<ProblemDetails>(() => admin.V1.Applications.GetAsync(cancellationToken: Ct));
        Assert.Equal("forbidden", forbidden.Type);

        var invalid = await Assert.ThrowsAsync<ProblemDetails>(() => admin.V1.Projects.PostAsync(new CreateProjectRequest { Name = " " }, cancellationToken: Ct));
        Assert.Equal("validation", invalid.Type);
        Assert.True(invalid.Errors!.AdditionalData.ContainsKey("name"), "errors names the field");
    }

    private PushGatewayClient Client(string key)
    {
        var adapter = new HttpClientRequestAdapter(new BaseBearerTokenAuthenticationProvider(new StaticKey(key, gateway.BaseAddress.Host)))
        {
            BaseUrl = gateway.BaseAddress.ToString().TrimEnd('/'),
        };
        return new PushGatewayClient(adapter);
    }

    private static async Task<MessageResponse> WaitForCompletionAsync(PushGatewayClient client, Guid messageId)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (true)
        {
            var message = await client.V1.Messages[messageId].GetAsync(cancellationToken: Ct);
            if (message!.Status == "completed" || DateTimeOffset.UtcNow > deadline)
            {
                Assert.Equal("completed", message.Status);
                return message;
            }

            await Task.Delay(50, Ct);
        }
    }

    /// <summary>The key a backend was given; Kiota sends it as <c>Authorization: Bearer</c> to the gateway's host only.</summary>
    private sealed class StaticKey(string key, string host) : IAccessTokenProvider
    {
        public AllowedHostsValidator AllowedHostsValidator { get; } = new([host]);

        public Task<string> GetAuthorizationTokenAsync(Uri uri, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(AllowedHostsValidator.IsUrlHostValid(uri) ? key : "");
    }
}
