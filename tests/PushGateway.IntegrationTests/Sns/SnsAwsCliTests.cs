using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.Simulator;

namespace PushGateway.IntegrationTests.Sns;

/// <summary>The facade driven by the real AWS CLI v2 (Debian's awscli), as a backend written for SNS would use it.</summary>
public sealed class SnsAwsCliTests(DeliveryGateway gateway) : IClassFixture<DeliveryGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(ProjectContext Project, SnsKeys Keys)> NewProjectAsync()
    {
        var project = await gateway.NewProjectAsync(Ct);
        // A project key may mint its own project's SNS keys.
        return (project, await SnsTools.CreateKeysAsync(project.Client, project.ProjectId, Ct));
    }

    private async Task<string> CreateApnsApplicationAsync(SnsKeys keys, string name, string platform = "APNS", string bundleId = "com.example.sns")
    {
        var key = gateway.Simulator.State.AddApnsKey(new ApnsKeyRequest { TeamId = "TEAM123456" });
        var attributes = Path.Combine(Path.GetTempPath(), $"sns-attrs-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(attributes, new JsonObject
        {
            ["PlatformCredential"] = key.PrivateKeyPem,
            ["PlatformPrincipal"] = key.KeyId,
            ["ApplePlatformTeamID"] = key.TeamId,
            ["ApplePlatformBundleID"] = bundleId,
        }.ToJsonString(), Ct);
        var created = await Aws(keys, "sns", "create-platform-application", "--name", name, "--platform", platform, "--attributes", "file://" + attributes);
        File.Delete(attributes);
        return created.Json()["PlatformApplicationArn"]!.GetValue<string>();
    }

    private async Task<ToolResult> Aws(SnsKeys keys, params string[] args)
    {
        var result = await SnsTools.AwsAsync(gateway, keys, Ct, args);
        Assert.True(result.ExitCode == 0, $"aws {string.Join(' ', args.Take(2))} exited {result.ExitCode}: {result.Stderr}");
        return result;
    }

    private async Task<ToolResult> AwsFails(SnsKeys keys, params string[] args)
    {
        var result = await SnsTools.AwsAsync(gateway, keys, Ct, args);
        Assert.True(result.ExitCode != 0, $"aws {string.Join(' ', args.Take(2))} succeeded: {result.Stdout}");
        return result;
    }

    [Fact]
    public async Task TheCliIsVersion2()
    {
        var version = await SnsTools.AwsVersionAsync(Ct);
        Assert.StartsWith("aws-cli/2.", version);
    }

    [Fact]
    public async Task SampleRegistrationFlow_CreateConflictRegexGetSet()
    {
        var (_, keys) = await NewProjectAsync();
        var appArn = await CreateApnsApplicationAsync(keys, "news-ios");
        Assert.Equal($"arn:aws:sns:{SnsTools.Region}:{keys.AccountId}:app/APNS/news-ios", appArn);
        Assert.Matches("^[0-9]{12}$", keys.AccountId);

        var token = TestCredentials.ApnsTokenHex().ToUpperInvariant();
        var first = (await Aws(keys, "sns", "create-platform-endpoint", "--platform-application-arn", appArn, "--token", token, "--custom-user-data", "user-1"))
            .Json()["EndpointArn"]!.GetValue<string>();
        Assert.Matches($"^arn:aws:sns:us-east-1:{keys.AccountId}:endpoint/APNS/news-ios/[0-9a-f-]{{36}}$", first);

        // Same token, same attributes: the same endpoint (SNS idempotency).
        var again = (await Aws(keys, "sns", "create-platform-endpoint", "--platform-application-arn", appArn, "--token", token, "--custom-user-data", "user-1"))
            .Json()["EndpointArn"]!.GetValue<string>();
        Assert.Equal(first, again);

        // Same token, other attributes: InvalidParameter with the message AWS's samples parse.
        var conflict = await AwsFails(keys, "sns", "create-platform-endpoint", "--platform-application-arn", appArn, "--token", token, "--custom-user-data", "user-2");
        Assert.Contains("(InvalidParameter)", conflict.Stderr);
        Assert.Contains($"Invalid parameter: Token Reason: Endpoint {first} already exists with the same Token, but different attributes.", conflict.Stderr);
        var match = Regex.Match(conflict.Stderr.Trim(), SnsTools.ConflictPattern);
        Assert.True(match.Success, conflict.Stderr);
        Assert.Equal(first, match.Groups[1].Value);

        var attributes = (await Aws(keys, "sns", "get-endpoint-attributes", "--endpoint-arn", first)).Json()["Attributes"]!;
        Assert.Equal("true", attributes["Enabled"]!.GetValue<string>());
        Assert.Equal(token.ToLowerInvariant(), attributes["Token"]!.GetValue<string>());
        Assert.Equal("user-1", attributes["CustomUserData"]!.GetValue<string>());

        // The sample's recovery: set the new token and enable.
        var newToken = TestCredentials.ApnsTokenHex();
        await Aws(keys, "sns", "set-endpoint-attributes", "--endpoint-arn", first, "--attributes", $"Token={newToken},Enabled=false,CustomUserData=user-2");
        attributes = (await Aws(keys, "sns", "get-endpoint-attributes", "--endpoint-arn", first)).Json()["Attributes"]!;
        Assert.Equal("false", attributes["Enabled"]!.GetValue<string>());
        Assert.Equal(newToken, attributes["Token"]!.GetValue<string>());
        Assert.Equal("user-2", attributes["CustomUserData"]!.GetValue<string>());

        var disabled = await AwsFails(keys, "sns", "publish", "--target-arn", first, "--message", "hi");
        Assert.Contains("(EndpointDisabled)", disabled.Stderr);
        Assert.Contains("Endpoint is disabled", disabled.Stderr);

        await Aws(keys, "sns", "set-endpoint-attributes", "--endpoint-arn", first, "--attributes", "Enabled=true");
        var listed = (await Aws(keys, "sns", "list-endpoints-by-platform-application", "--platform-application-arn", appArn)).Json()["Endpoints"]!.AsArray();
        var only = Assert.Single(listed)!;
        Assert.Equal(first, only["EndpointArn"]!.GetValue<string>());
        Assert.Equal("true", only["Attributes"]!["Enabled"]!.GetValue<string>());

        // Unknown-but-well-formed and deleted endpoints.
        await Aws(keys, "sns", "delete-endpoint", "--endpoint-arn", first);
        await Aws(keys, "sns", "delete-endpoint", "--endpoint-arn", first);
        var gone = await AwsFails(keys, "sns", "get-endpoint-attributes", "--endpoint-arn", first);
        Assert.Contains("(NotFound)", gone.Stderr);
        Assert.Contains("Endpoint does not exist", gone.Stderr);
        Assert.Empty((await Aws(keys, "sns", "list-endpoints-by-platform-application", "--platform-application-arn", appArn)).Json()["Endpoints"]!.AsArray());
    }

    [Fact]
    public async Task PublishJson_ReachesTheSimulator_WithTheReservedAttributes()
    {
        var (project, keys) = await NewProjectAsync();
        var appArn = await CreateApnsApplicationAsync(keys, "shop", bundleId: "com.example.shop");
        var token = TestCredentials.ApnsTokenHex();
        var endpointArn = (await Aws(keys, "sns", "create-platform-endpoint", "--platform-application-arn", appArn, "--token", token))
            .Json()["EndpointArn"]!.GetValue<string>();

        var message = new JsonObject
        {
            ["default"] = "fallback",
            ["APNS"] = new JsonObject { ["aps"] = new JsonObject { ["alert"] = new JsonObject { ["title"] = "Sale", ["body"] = "50% off" }, ["badge"] = 2 }, ["orderId"] = "42" }.ToJsonString(),
            ["GCM"] = "{\"notification\":{\"title\":\"not for apns\"}}",
        }.ToJsonString();
        var attributes = new JsonObject
        {
            ["AWS.SNS.MOBILE.APNS.PUSH_TYPE"] = new JsonObject { ["DataType"] = "String", ["StringValue"] = "alert" },
            ["AWS.SNS.MOBILE.APNS.PRIORITY"] = new JsonObject { ["DataType"] = "String", ["StringValue"] = "5" },
            ["AWS.SNS.MOBILE.APNS.COLLAPSE_ID"] = new JsonObject { ["DataType"] = "String", ["StringValue"] = "sale-1" },
            ["AWS.SNS.MOBILE.APNS.TTL"] = new JsonObject { ["DataType"] = "String", ["StringValue"] = "600" },
        }.ToJsonString();
        var before = DateTimeOffset.UtcNow;
        var published = (await Aws(keys, "sns", "publish", "--target-arn", endpointArn, "--message-structure", "json", "--message", message,
            "--message-attributes", attributes)).Json();
        var messageId = Guid.Parse(published["MessageId"]!.GetValue<string>());

        // The MessageId is the gateway's message: the REST receipts show it.
        await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        var received = Assert.Single(gateway.Simulator.State.GetReceived("apns", token).Items);
        Assert.Equal("production", received.Environment);
        Assert.Equal("com.example.shop", received.Headers!["apns-topic"]);
        Assert.Equal("alert", received.Headers["apns-push-type"]);
        Assert.Equal("5", received.Headers["apns-priority"]);
        Assert.Equal("sale-1", received.Headers["apns-collapse-id"]);
        var expiration = DateTimeOffset.FromUnixTimeSeconds(long.Parse(received.Headers["apns-expiration"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.InRange(expiration, before.AddSeconds(590), before.AddSeconds(620));
        var payload = JsonNode.Parse(received.Body!.Value.GetRawText())!;
        Assert.Equal("Sale", payload["aps"]!["alert"]!["title"]!.GetValue<string>());
        Assert.Equal(2, payload["aps"]!["badge"]!.GetValue<int>());
        Assert.Equal("42", payload["orderId"]!.GetValue<string>());

        // A plain message becomes the alert text.
        var plainToken = TestCredentials.ApnsTokenHex();
        var plainArn = (await Aws(keys, "sns", "create-platform-endpoint", "--platform-application-arn", appArn, "--token", plainToken)).Json()["EndpointArn"]!.GetValue<string>();
        var plainId = Guid.Parse((await Aws(keys, "sns", "publish", "--target-arn", plainArn, "--message", "Hello there")).Json()["MessageId"]!.GetValue<string>());
        await DeliveryGateway.WaitForMessageAsync(project.Client, plainId, Ct);
        var plain = JsonNode.Parse(Assert.Single(gateway.Simulator.State.GetReceived("apns", plainToken).Items).Body!.Value.GetRawText())!;
        Assert.Equal("Hello there", plain["aps"]!["alert"]!.GetValue<string>());

        // Structure errors, before anything is queued.
        var noDefault = await AwsFails(keys, "sns", "publish", "--target-arn", plainArn, "--message-structure", "json", "--message", "{\"GCM\":\"{}\"}");
        Assert.Contains("No default entry in JSON message body", noDefault.Stderr);
        var broken = await AwsFails(keys, "sns", "publish", "--target-arn", plainArn, "--message-structure", "json", "--message", "{not json");
        Assert.Contains("JSON message body failed to parse", broken.Stderr);
    }

    [Fact]
    public async Task ApnsUnregistered_ShowsEnabledFalse_AndPublishIsRefused()
    {
        var (project, keys) = await NewProjectAsync();
        var appArn = await CreateApnsApplicationAsync(keys, "gone-ios", platform: "APNS_SANDBOX");
        Assert.Contains(":app/APNS_SANDBOX/gone-ios", appArn);
        var token = TestCredentials.ApnsTokenHex();
        var endpointArn = (await Aws(keys, "sns", "create-platform-endpoint", "--platform-application-arn", appArn, "--token", token)).Json()["EndpointArn"]!.GetValue<string>();
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Preset = TokenPresets.Unregistered, Timestamp = DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds() });

        var messageId = Guid.Parse((await Aws(keys, "sns", "publish", "--target-arn", endpointArn, "--message", "are you there?")).Json()["MessageId"]!.GetValue<string>());
        await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        Assert.Equal("sandbox", Assert.Single(gateway.Simulator.State.GetReceived("apns", token).Items).Environment);

        var attributes = (await Aws(keys, "sns", "get-endpoint-attributes", "--endpoint-arn", endpointArn)).Json()["Attributes"]!;
        Assert.Equal("false", attributes["Enabled"]!.GetValue<string>());
        var refused = await AwsFails(keys, "sns", "publish", "--target-arn", endpointArn, "--message", "again");
        Assert.Contains("(EndpointDisabled)", refused.Stderr);
    }

    [Fact]
    public async Task Topics_SubscribeFanOutUnsubscribe()
    {
        var (project, keys) = await NewProjectAsync();
        var appArn = await CreateApnsApplicationAsync(keys, "fan-ios");
        var tokens = new[] { TestCredentials.ApnsTokenHex(), TestCredentials.ApnsTokenHex() };
        var endpoints = new List<string>();
        foreach (var token in tokens)
        {
            endpoints.Add((await Aws(keys, "sns", "create-platform-endpoint", "--platform-application-arn", appArn, "--token", token)).Json()["EndpointArn"]!.GetValue<string>());
        }

        var topicArn = (await Aws(keys, "sns", "create-topic", "--name", "breaking-news")).Json()["TopicArn"]!.GetValue<string>();
        Assert.Equal($"arn:aws:sns:us-east-1:{keys.AccountId}:breaking-news", topicArn);
        Assert.Equal(topicArn, (await Aws(keys, "sns", "create-topic", "--name", "breaking-news")).Json()["TopicArn"]!.GetValue<string>());
        var subscriptions = new List<string>();
        foreach (var endpoint in endpoints)
        {
            var arn = (await Aws(keys, "sns", "subscribe", "--topic-arn", topicArn, "--protocol", "application", "--notification-endpoint", endpoint)).Json()["SubscriptionArn"]!.GetValue<string>();
            Assert.StartsWith(topicArn + ":", arn);
            subscriptions.Add(arn);
        }

        var listed = (await Aws(keys, "sns", "list-subscriptions-by-topic", "--topic-arn", topicArn)).Json()["Subscriptions"]!.AsArray();
        Assert.Equal(2, listed.Count);
        Assert.All(listed, s =>
        {
            Assert.Equal("application", s!["Protocol"]!.GetValue<string>());
            Assert.Equal(keys.AccountId, s["Owner"]!.GetValue<string>());
            Assert.Contains(s["Endpoint"]!.GetValue<string>(), endpoints);
        });
        Assert.Contains(topicArn, (await Aws(keys, "sns", "list-topics")).Json()["Topics"]!.AsArray().Select(t => t!["TopicArn"]!.GetValue<string>()));

        var message = "{\"default\":\"news\",\"APNS\":\"{\\\"aps\\\":{\\\"alert\\\":\\\"Topic news\\\"}}\"}";
        var messageId = Guid.Parse((await Aws(keys, "sns", "publish", "--topic-arn", topicArn, "--message-structure", "json", "--message", message)).Json()["MessageId"]!.GetValue<string>());
        var done = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        Assert.Equal(2, done["counts"]!["delivered"]!.GetValue<long>());
        foreach (var token in tokens)
        {
            var payload = JsonNode.Parse(Assert.Single(gateway.Simulator.State.GetReceived("apns", token).Items).Body!.Value.GetRawText())!;
            Assert.Equal("Topic news", payload["aps"]!["alert"]!.GetValue<string>());
        }

        var noDefault = await AwsFails(keys, "sns", "publish", "--topic-arn", topicArn, "--message-structure", "json", "--message", "{\"APNS\":\"{}\"}");
        Assert.Contains("No default entry in JSON message body", noDefault.Stderr);

        await Aws(keys, "sns", "unsubscribe", "--subscription-arn", subscriptions[0]);
        Assert.Single((await Aws(keys, "sns", "list-subscriptions-by-topic", "--topic-arn", topicArn)).Json()["Subscriptions"]!.AsArray());
        await Aws(keys, "sns", "delete-topic", "--topic-arn", topicArn);
        var gone = await AwsFails(keys, "sns", "publish", "--topic-arn", topicArn, "--message", "x");
        Assert.Contains("(NotFound)", gone.Stderr);
        Assert.Contains("Topic does not exist", gone.Stderr);
    }

    [Fact]
    public async Task WrongSecret_UnknownKey_AndRevokedKey_AreRefused_AndNothingIsWritten()
    {
        var (project, keys) = await NewProjectAsync();
        var appArn = await CreateApnsApplicationAsync(keys, "auth-ios");
        var before = await gateway.TableCountsAsync(Ct);

        var wrongSecret = await AwsFails(keys with { SecretAccessKey = (keys.SecretAccessKey[0] == 'x' ? "y" : "x") + keys.SecretAccessKey[1..] },
            "sns", "create-platform-endpoint", "--platform-application-arn", appArn, "--token", TestCredentials.ApnsTokenHex());
        Assert.Contains("(SignatureDoesNotMatch)", wrongSecret.Stderr);
        var unknown = await AwsFails(keys with { AccessKeyId = "PGSNAAAAAAAAAAAAAAAA" },
            "sns", "create-platform-endpoint", "--platform-application-arn", appArn, "--token", TestCredentials.ApnsTokenHex());
        Assert.Contains("(InvalidClientTokenId)", unknown.Stderr);

        var revoke = await project.Client.DeleteAsync($"v1/projects/{project.ProjectId}/sns-credentials/{keys.AccessKeyId}", Ct);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, revoke.StatusCode);
        var revoked = await AwsFails(keys, "sns", "create-platform-endpoint", "--platform-application-arn", appArn, "--token", TestCredentials.ApnsTokenHex());
        Assert.Contains("(InvalidClientTokenId)", revoked.Stderr);
        Assert.Equal(before, await gateway.TableCountsAsync(Ct));
    }
}
