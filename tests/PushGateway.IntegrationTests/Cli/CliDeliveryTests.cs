using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PushGateway.Cli;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Cli;

/// <summary>The operator's whole path with the CLI, ending in real deliveries to the APNs simulator.</summary>
public sealed class CliDeliveryTests(DeliveryGateway gateway) : IClassFixture<DeliveryGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<CliResult> Run(string key, params string[] args) => CliRunner.RunAsync(gateway.BaseAddress, key, Ct, args);

    [Fact]
    public async Task OperatorFlow_ProjectKeyEndpointSendWait_ShowsTheSimulatorsReceipt()
    {
        var project = await Run(TestGateway.AdminKey, "project", "create", "--name", "cli-flow");
        Assert.True(project.ExitCode == 0, project.ToString());
        var projectId = project.Value("id");
        var keyRun = await Run(TestGateway.AdminKey, "apikey", "create", "--project", projectId, "--name", "operator");
        Assert.True(keyRun.ExitCode == 0, keyRun.ToString());
        var key = keyRun.Value("key");
        var keyId = keyRun.Value("id");

        using var client = gateway.Client(key);
        var appId = await gateway.CreateApnsAppAsync(client, Ct, bundleId: "com.example.cli");
        var apps = await Run(key, "app", "list");
        Assert.StartsWith(appId.ToString(), Assert.Single(apps.Rows()), StringComparison.Ordinal);

        var token = TestCredentials.ApnsTokenHex();
        var registered = await Run(key, "endpoint", "register", "--app", appId.ToString(), "--token", token, "--user", "carol");
        Assert.Equal("created", registered.Value("outcome"));
        var endpointId = registered.Value("id");

        var sent = await Run(key, "send", "--endpoint", endpointId, "--title", "Hello", "--body", "From the CLI",
            "--data", "orderId=42", "kind=test", "--ttl", "600", "--priority", "high", "--wait", "30");
        Assert.True(sent.ExitCode == 0, sent.ToString());
        Assert.Equal("completed", sent.Value("status"));
        Assert.Equal("total 1, pending 0, delivered 1, failed 0, expired 0, skipped 0", sent.Value("counts"));
        var messageId = sent.Value("id");

        var received = Assert.Single(gateway.Simulator.State.GetReceived("apns", token).Items);
        var apnsId = received.Headers!["apns-id"];
        var payload = JsonNode.Parse(received.Body!.Value.GetRawText())!;
        Assert.Equal("Hello", payload["aps"]!["alert"]!["title"]!.GetValue<string>());
        Assert.Equal("From the CLI", payload["aps"]!["alert"]!["body"]!.GetValue<string>());
        Assert.Equal("42", payload["orderId"]!.GetValue<string>());
        Assert.Equal("test", payload["kind"]!.GetValue<string>());
        Assert.Equal("10", received.Headers["apns-priority"]);

        // The receipts table: endpoint, state, attempts, the provider's status and the apns-id the simulator issued.
        var receipt = Assert.Single(sent.Out.Split('\n'), l => l.StartsWith(endpointId, StringComparison.Ordinal));
        Assert.Matches($"^{endpointId}\\s+delivered\\s+1\\s+\\S+ \\S+\\s+200\\s+-\\s+{Regex.Escape(apnsId)}$", receipt.TrimEnd());
        Assert.Contains("ENDPOINT", sent.Out, StringComparison.Ordinal);

        var shown = await Run(key, "message", "show", messageId);
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Equal("completed", shown.Value("status"));
        Assert.Equal("total 1, pending 0, delivered 1, failed 0, expired 0, skipped 0", shown.Value("counts"));

        var deliveries = await Run(key, "message", "deliveries", messageId);
        Assert.Matches($"^{endpointId}\\s+delivered\\s+1\\s+.*{Regex.Escape(apnsId)}$", Assert.Single(deliveries.Rows()).TrimEnd());
        var failed = await Run(key, "message", "deliveries", messageId, "--state", "failed");
        Assert.Equal("No deliveries.", failed.Out.Trim());

        var json = (await Run(key, "--json", "message", "deliveries", messageId, "--state", "delivered")).Json();
        var item = Assert.Single(json["items"]!.AsArray())!;
        Assert.Equal(endpointId, item["endpointId"]!.GetValue<string>());
        Assert.Equal(200, item["provider"]!["status"]!.GetValue<int>());
        Assert.Equal(apnsId, item["provider"]!["id"]!.GetValue<string>());
        Assert.Equal("completed", (await Run(key, "--json", "message", "show", messageId)).Json()["status"]!.GetValue<string>());

        // Revoked: the same key now gets 401, and the CLI says so with exit code 1.
        var revoked = await Run(TestGateway.AdminKey, "apikey", "revoke", "--project", projectId, "--key-id", keyId);
        Assert.Equal(0, revoked.ExitCode);
        var refused = await Run(key, "message", "show", messageId);
        Assert.Equal(ExitCodes.RequestRejected, refused.ExitCode);
        Assert.Contains("error: Missing or invalid API key. (HTTP 401, unauthorized)", refused.Err, StringComparison.Ordinal);
        Assert.Contains("The key is unknown or revoked.", refused.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_ToUserWithJsonAndWait_PrintsAcceptedMessageAndDeliveriesAsOneDocument()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct);
        var tokens = new[] { TestCredentials.ApnsTokenHex(), TestCredentials.ApnsTokenHex() };
        foreach (var t in tokens)
        {
            await project.Client.CreateEndpointAsync(appId, t, Ct, userId: "dave");
        }

        var result = await Run(project.Key, "--json", "send", "--user", "dave", "--wait");
        Assert.True(result.ExitCode == 0, result.ToString());
        var document = result.Json();
        Assert.Null(document["accepted"]!["targetCount"]);
        Assert.Equal(2, document["message"]!["targetCount"]!.GetValue<int>());
        Assert.Equal("completed", document["message"]!["status"]!.GetValue<string>());
        Assert.Equal(2, document["message"]!["counts"]!["delivered"]!.GetValue<long>());
        Assert.All(document["deliveries"]!.AsArray(), d => Assert.Equal("delivered", d!["state"]!.GetValue<string>()));

        // With no title, body or data, the standard test alert is what arrives.
        foreach (var t in tokens)
        {
            var received = Assert.Single(gateway.Simulator.State.GetReceived("apns", t).Items);
            Assert.Equal("PushGateway test", JsonNode.Parse(received.Body!.Value.GetRawText())!["aps"]!["alert"]!["title"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Send_WithoutWaitAndWithIdempotencyKey_PrintsTheAcceptedMessageOnce()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct);
        var endpoint = await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct);
        string[] args = ["send", "--endpoint", endpoint.Id().ToString(), "--title", "once", "--idempotency-key", "cli-" + Guid.NewGuid()];

        var first = await Run(project.Key, args);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal("accepted", first.Value("status"));
        Assert.Equal("1", first.Value("targetCount"));
        var second = await Run(project.Key, args);
        Assert.Equal(first.Value("id"), second.Value("id"));

        var conflict = await Run(project.Key, [.. args[..4], "different", .. args[5..]]);
        Assert.Equal(ExitCodes.RequestRejected, conflict.ExitCode);
        Assert.Contains("(HTTP 422, idempotency-conflict)", conflict.Err, StringComparison.Ordinal);

        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, Guid.Parse(first.Value("id")), Ct);
        Assert.Equal(1, message["counts"]!["total"]!.GetValue<long>());
    }

    [Fact]
    public async Task SendWait_MessageDoesNotComplete_ExitsWith3AndShowsPendingReceipt()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct);
        var app = await project.Client.GetFromJsonAsync<JsonObject>($"v1/applications/{appId}", Ct);
        // Apple no longer knows the signing key: the application is disabled and its deliveries are held, not failed.
        gateway.Simulator.State.RevokeApnsKey(app!["credentials"]!["keyId"]!.GetValue<string>());
        var endpoint = await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct);

        var result = await Run(project.Key, "send", "--endpoint", endpoint.Id().ToString(), "--wait", "1");

        Assert.Equal(ExitCodes.WaitTimedOut, result.ExitCode);
        Assert.Contains("has not completed after 1 s", result.Err, StringComparison.Ordinal);
        Assert.NotEqual("completed", result.Value("status"));
        Assert.Matches($"^{endpoint.Id()}\\s+pending\\s", Assert.Single(result.Out.Split('\n'), l => l.StartsWith(endpoint.Id().ToString(), StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Send_DisabledEndpoint_PrintsTheProblemWithTheEndpointId()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct);
        var endpoint = await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct);
        (await project.Client.PatchAsJsonAsync($"v1/endpoints/{endpoint.Id()}", new { enabled = false }, Ct)).EnsureSuccessStatusCode();

        var result = await Run(project.Key, "send", "--endpoint", endpoint.Id().ToString(), "--wait");

        Assert.Equal(ExitCodes.RequestRejected, result.ExitCode);
        Assert.Contains("(HTTP 409, endpoint-disabled)", result.Err, StringComparison.Ordinal);
        Assert.Contains($"  endpointId: {endpoint.Id()}", result.Err, StringComparison.Ordinal);
    }
}
