using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.Simulator;

namespace PushGateway.IntegrationTests.Delivery;

/// <summary>Every row of the contract's outcome table (section 4), against the simulator over real sockets.</summary>
public sealed class OutcomeTableTests(OutcomeTableTests.Gateway gateway) : IClassFixture<OutcomeTableTests.Gateway>
{
    public sealed class Gateway : DeliveryGateway
    {
        protected override IDictionary<string, string?> Settings
        {
            get
            {
                var settings = base.Settings;
                settings["Delivery:MaxAttempts"] = "4";
                return settings;
            }
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(ProjectContext Project, Guid AppId, JsonObject Endpoint, string Token)> ApnsEndpointAsync(string environment = "production")
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct, environment);
        var token = TestCredentials.ApnsTokenHex();
        return (project, appId, await project.Client.CreateEndpointAsync(appId, token, Ct), token);
    }

    private async Task<(ProjectContext Project, Guid AppId, JsonObject Endpoint, string Token)> FcmEndpointAsync()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateFcmAppAsync(project.Client, Ct);
        var token = TestCredentials.FcmToken();
        return (project, appId, await project.Client.CreateEndpointAsync(appId, token, Ct), token);
    }

    private static Task<Guid> SendAsync(ProjectContext project, JsonObject endpoint, int? ttl = null) =>
        DeliveryGateway.SendAsync(project.Client, ttl is null
            ? new { target = new { endpointId = endpoint.Id() }, notification = new { title = "t" } }
            : new { target = new { endpointId = endpoint.Id() }, notification = new { title = "t" }, ttlSeconds = ttl }, Ct);

    private static async Task<JsonObject> EndpointAsync(ProjectContext project, JsonObject endpoint) =>
        (await project.Client.GetFromJsonAsync<JsonObject>($"v1/endpoints/{endpoint.Id()}", Ct))!;

    private async Task<long> EventsAsync(JsonObject endpoint, string type) =>
        await gateway.ScalarAsync<long>("SELECT count(*) FROM events WHERE endpoint_id = @id AND type = @t", Ct, ("id", endpoint.Id()), ("t", type));

    [Fact]
    public async Task ApnsUnregistered_AfterLastRegistration_DisablesEndpoint_RaisesEvents()
    {
        var (project, _, endpoint, token) = await ApnsEndpointAsync();
        var deathTime = DateTimeOffset.UtcNow.AddSeconds(5);
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Preset = TokenPresets.Unregistered, Timestamp = deathTime.ToUnixTimeMilliseconds() });

        var messageId = await SendAsync(project, endpoint);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        Assert.Equal(1, message["counts"]!["failed"]!.GetValue<long>());
        var delivery = await DeliveryGateway.SingleDeliveryAsync(project.Client, messageId, Ct);
        Assert.Equal("failed", delivery["state"].Str());
        Assert.Equal(410, delivery["provider"]!["status"]!.GetValue<int>());
        Assert.Equal("Unregistered", delivery["provider"]!["reason"].Str());

        var after = await EndpointAsync(project, endpoint);
        Assert.False(after["enabled"]!.GetValue<bool>());
        Assert.Equal("apns:410:Unregistered", after["disabledReason"].Str());
        Assert.NotNull(after["disabledAt"]);
        Assert.Equal(1, await EventsAsync(endpoint, "endpointUpdated"));
        Assert.Equal(1, await EventsAsync(endpoint, "deliveryFailure"));
        var failure = JsonNode.Parse((await gateway.ScalarAsync<string>("SELECT payload::text FROM events WHERE endpoint_id = @id AND type = 'deliveryFailure'", Ct, ("id", endpoint.Id())))!)!;
        Assert.Equal(messageId.ToString(), failure["failure"]!["messageId"].Str());
        Assert.Equal(410, failure["failure"]!["providerStatus"]!.GetValue<int>());

        // A disabled endpoint refuses direct sends until the app registers a current token.
        await (await project.Client.PostAsJsonAsync("v1/messages", new { target = new { endpointId = endpoint.Id() }, notification = new { title = "t" } }, Ct))
            .AssertProblemAsync(HttpStatusCode.Conflict, "endpoint-disabled", Ct);
        gateway.Simulator.State.ClearTokenBehavior(token);
        var (_, registered) = await project.Client.RegisterAsync(endpoint.Id("applicationId"), new { token, endpointId = endpoint.Id() }, Ct);
        Assert.True(registered["endpoint"]!["enabled"]!.GetValue<bool>());
        var again = await SendAsync(project, endpoint);
        Assert.Equal(1, (await DeliveryGateway.WaitForMessageAsync(project.Client, again, Ct))["counts"]!["delivered"]!.GetValue<long>());
    }

    [Fact]
    public async Task ApnsUnregistered_WithTimestampBeforeReRegistration_KeepsEndpoint()
    {
        var (project, _, endpoint, token) = await ApnsEndpointAsync();
        // Apple saw the token die an hour ago; the app registered it again since (tokenUpdatedAt is now).
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Preset = TokenPresets.Unregistered, Timestamp = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds() });
        var messageId = await SendAsync(project, endpoint);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        Assert.Equal(1, message["counts"]!["failed"]!.GetValue<long>());
        var after = await EndpointAsync(project, endpoint);
        Assert.True(after["enabled"]!.GetValue<bool>());
        Assert.Null(after["disabledReason"]);
        Assert.Equal(0, await EventsAsync(endpoint, "endpointUpdated"));
    }

    [Fact]
    public async Task ApnsExpiredToken_DisablesEndpoint()
    {
        var (project, _, endpoint, token) = await ApnsEndpointAsync();
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Preset = TokenPresets.ExpiredToken, Timestamp = DateTimeOffset.UtcNow.AddSeconds(5).ToUnixTimeMilliseconds() });
        await DeliveryGateway.WaitForMessageAsync(project.Client, await SendAsync(project, endpoint), Ct);
        Assert.Equal("apns:410:ExpiredToken", (await EndpointAsync(project, endpoint))["disabledReason"].Str());
    }

    [Fact]
    public async Task ApnsBadDeviceToken_SandboxTokenSentToProduction_DisablesWithEnvironmentInReason()
    {
        var (project, _, endpoint, token) = await ApnsEndpointAsync("production");
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Environment = ApnsEnvironment.Sandbox });
        var messageId = await SendAsync(project, endpoint);
        await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        var after = await EndpointAsync(project, endpoint);
        Assert.False(after["enabled"]!.GetValue<bool>());
        Assert.StartsWith("apns:400:BadDeviceToken", after["disabledReason"].Str(), StringComparison.Ordinal);
        Assert.Contains("production", after["disabledReason"].Str(), StringComparison.Ordinal);
        Assert.Equal("BadDeviceToken", (await DeliveryGateway.SingleDeliveryAsync(project.Client, messageId, Ct))["provider"]!["reason"].Str());
    }

    [Fact]
    public async Task ApnsDeviceTokenNotForTopic_DisablesEndpoint()
    {
        var (project, _, endpoint, token) = await ApnsEndpointAsync();
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Topic = "com.other.app" });
        await DeliveryGateway.WaitForMessageAsync(project.Client, await SendAsync(project, endpoint), Ct);
        Assert.Equal("apns:400:DeviceTokenNotForTopic", (await EndpointAsync(project, endpoint))["disabledReason"].Str());
    }

    [Theory]
    [InlineData(TokenPresets.FcmUnregistered, "fcm:404:UNREGISTERED")]
    [InlineData(TokenPresets.FcmInvalidToken, "fcm:400:INVALID_ARGUMENT (invalid registration token)")]
    [InlineData(TokenPresets.FcmSenderMismatch, "fcm:403:SENDER_ID_MISMATCH")]
    public async Task FcmDeadToken_DisablesEndpoint(string preset, string reason)
    {
        var (project, _, endpoint, token) = await FcmEndpointAsync();
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Preset = preset });
        var messageId = await SendAsync(project, endpoint);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        Assert.Equal(1, message["counts"]!["failed"]!.GetValue<long>());
        var after = await EndpointAsync(project, endpoint);
        Assert.False(after["enabled"]!.GetValue<bool>());
        Assert.Equal(reason, after["disabledReason"].Str());
        Assert.Equal(1, await EventsAsync(endpoint, "deliveryFailure"));
    }

    [Theory]
    [InlineData("fcm", TokenPresets.FcmInvalidPayload, 400)]
    [InlineData("apns", TokenPresets.PayloadTooLarge, 413)]
    public async Task PayloadRejection_FailsDelivery_KeepsEndpoint(string platform, string preset, int status)
    {
        var (project, _, endpoint, token) = platform == "apns" ? await ApnsEndpointAsync() : await FcmEndpointAsync();
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Preset = preset });
        var messageId = await SendAsync(project, endpoint);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        Assert.Equal(1, message["counts"]!["failed"]!.GetValue<long>());
        var delivery = await DeliveryGateway.SingleDeliveryAsync(project.Client, messageId, Ct);
        Assert.Equal(status, delivery["provider"]!["status"]!.GetValue<int>());
        Assert.Equal(1, delivery["attempts"]!.GetValue<int>());
        Assert.True((await EndpointAsync(project, endpoint))["enabled"]!.GetValue<bool>());
        Assert.Equal(1, await EventsAsync(endpoint, "deliveryFailure"));
        Assert.Equal(0, await EventsAsync(endpoint, "endpointUpdated"));
    }

    [Fact]
    public async Task DeliveryFailure_WaitsForAConcurrentEndpointChange_AndFollowsIt()
    {
        var (project, appId, endpoint, token) = await ApnsEndpointAsync();
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Preset = TokenPresets.PayloadTooLarge });

        // Another change to the endpoint is being committed (it holds the row and has written its event) while the
        // provider rejects the payload.
        await using var connection = new Npgsql.NpgsqlConnection(gateway.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var change = await connection.BeginTransactionAsync(Ct);
        await using (var update = new Npgsql.NpgsqlCommand("""
            UPDATE endpoints SET custom_user_data = 'changed meanwhile', updated_at = now() WHERE id = @id;
            INSERT INTO events (id, project_id, application_id, endpoint_id, type, payload, created_at, state, attempts, next_attempt_at)
            VALUES (gen_random_uuid(), @p, @a, @id, 'endpointUpdated', '{}', now(), 'pending', 0, now());
            """, connection, change))
        {
            update.Parameters.AddWithValue("id", endpoint.Id());
            update.Parameters.AddWithValue("p", project.ProjectId);
            update.Parameters.AddWithValue("a", appId);
            await update.ExecuteNonQueryAsync(Ct);
        }

        var messageId = await SendAsync(project, endpoint);
        await DeliveryGateway.WaitUntilAsync(() => Task.FromResult(gateway.Simulator.State.GetReceived(token: token).Total > 0), Ct, what: "the simulator to answer");
        await Task.Delay(500, Ct);
        Assert.Equal(0, await EventsAsync(endpoint, "deliveryFailure"));

        await change.CommitAsync(Ct);
        await DeliveryGateway.WaitUntilAsync(async () => await EventsAsync(endpoint, "deliveryFailure") == 1, Ct, what: "the deliveryFailure event");
        var changeSequence = await gateway.ScalarAsync<long>("SELECT sequence FROM events WHERE endpoint_id = @id AND type = 'endpointUpdated'", Ct, ("id", endpoint.Id()));
        var failureSequence = await gateway.ScalarAsync<long>("SELECT sequence FROM events WHERE endpoint_id = @id AND type = 'deliveryFailure'", Ct, ("id", endpoint.Id()));
        var failure = JsonNode.Parse((await gateway.ScalarAsync<string>("SELECT payload::text FROM events WHERE endpoint_id = @id AND type = 'deliveryFailure'", Ct, ("id", endpoint.Id())))!)!;
        Assert.True(failureSequence > changeSequence, $"deliveryFailure {failureSequence} must follow the change {changeSequence}");
        Assert.Equal("changed meanwhile", failure["endpoint"]!["customUserData"].Str());
        Assert.Equal(messageId, failure["failure"]!["messageId"]!.GetValue<Guid>());
    }

    [Fact]
    public async Task ApnsHeaderRejection_FailsDelivery_KeepsEndpoint()
    {
        var (project, _, endpoint, token) = await ApnsEndpointAsync();
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Apns = new ApnsAnswer { Status = 400, Reason = "BadCollapseId" } });
        var messageId = await SendAsync(project, endpoint);
        await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        Assert.Equal("BadCollapseId", (await DeliveryGateway.SingleDeliveryAsync(project.Client, messageId, Ct))["provider"]!["reason"].Str());
        Assert.True((await EndpointAsync(project, endpoint))["enabled"]!.GetValue<bool>());
    }

    [Fact]
    public async Task ApnsExpiredProviderToken_GetsNewJwt_AndIsRetried()
    {
        var (project, _, endpoint, token) = await ApnsEndpointAsync();
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Apns = new ApnsAnswer { Status = 403, Reason = "ExpiredProviderToken" }, Times = 1 });
        var messageId = await SendAsync(project, endpoint);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        Assert.Equal(1, message["counts"]!["delivered"]!.GetValue<long>());
        Assert.Equal(2, (await DeliveryGateway.SingleDeliveryAsync(project.Client, messageId, Ct))["attempts"]!.GetValue<int>());
        Assert.True((await project.Client.GetFromJsonAsync<JsonObject>($"v1/applications/{endpoint.Id("applicationId")}", Ct))!["enabled"]!.GetValue<bool>());
    }

    [Fact]
    public async Task ApnsExpiredProviderToken_Forever_StopsAtTheAttemptLimit()
    {
        var (project, _, endpoint, token) = await ApnsEndpointAsync();
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Apns = new ApnsAnswer { Status = 403, Reason = "ExpiredProviderToken" } });
        var messageId = await SendAsync(project, endpoint);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        Assert.Equal(1, message["counts"]!["failed"]!.GetValue<long>());
        Assert.Equal(4, (await DeliveryGateway.SingleDeliveryAsync(project.Client, messageId, Ct))["attempts"]!.GetValue<int>());
        Assert.Equal(4, gateway.Simulator.State.GetReceived("apns", token).Items.Count);
    }

    [Fact]
    public async Task ApnsCredentialFailure_DisablesApplication_HoldsDeliveries_UntilNewCredentials()
    {
        var (project, appId, endpoint, token) = await ApnsEndpointAsync();
        var appBefore = (await project.Client.GetFromJsonAsync<JsonObject>($"v1/applications/{appId}", Ct))!;
        gateway.Simulator.State.RevokeApnsKey(appBefore["credentials"]!["keyId"].Str());

        var first = await SendAsync(project, endpoint);
        await DeliveryGateway.WaitUntilAsync(async () =>
            !(await project.Client.GetFromJsonAsync<JsonObject>($"v1/applications/{appId}", Ct))!["enabled"]!.GetValue<bool>(), Ct, what: "the application to be disabled");
        var app = (await project.Client.GetFromJsonAsync<JsonObject>($"v1/applications/{appId}", Ct))!;
        Assert.Equal("apns:403:InvalidProviderToken", app["disabledReason"].Str());

        var second = await SendAsync(project, endpoint);
        await Task.Delay(1000, Ct);
        foreach (var id in new[] { first, second })
        {
            var held = (await project.Client.GetFromJsonAsync<JsonObject>($"v1/messages/{id}", Ct))!;
            Assert.Equal(1, held["counts"]!["pending"]!.GetValue<long>());
            Assert.Equal(0, held["counts"]!["failed"]!.GetValue<long>());
        }

        Assert.True((await EndpointAsync(project, endpoint))["enabled"]!.GetValue<bool>());
        var sentWhileBroken = gateway.Simulator.State.GetReceived("apns", token).Items.Count;
        Assert.True(sentWhileBroken <= 2, $"a held application kept sending: {sentWhileBroken} requests");

        var patched = await project.Client.PatchAsJsonAsync($"v1/applications/{appId}", new { credentials = gateway.NewApnsCredentials() }, Ct);
        Assert.True((await patched.ReadObjectAsync(Ct))["enabled"]!.GetValue<bool>());
        foreach (var id in new[] { first, second })
        {
            var done = await DeliveryGateway.WaitForMessageAsync(project.Client, id, Ct);
            Assert.Equal(1, done["counts"]!["delivered"]!.GetValue<long>());
        }
    }

    [Fact]
    public async Task FcmThirdPartyAuthError_DisablesApplication()
    {
        var (project, appId, endpoint, token) = await FcmEndpointAsync();
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Preset = TokenPresets.FcmThirdPartyAuth });
        var messageId = await SendAsync(project, endpoint);
        await DeliveryGateway.WaitUntilAsync(async () =>
            !(await project.Client.GetFromJsonAsync<JsonObject>($"v1/applications/{appId}", Ct))!["enabled"]!.GetValue<bool>(), Ct, what: "the application to be disabled");
        var app = (await project.Client.GetFromJsonAsync<JsonObject>($"v1/applications/{appId}", Ct))!;
        Assert.Equal("fcm:401:THIRD_PARTY_AUTH_ERROR", app["disabledReason"].Str());
        Assert.Equal(1, (await project.Client.GetFromJsonAsync<JsonObject>($"v1/messages/{messageId}", Ct))!["counts"]!["pending"]!.GetValue<long>());
        Assert.True((await EndpointAsync(project, endpoint))["enabled"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("apns", TokenPresets.ServiceUnavailable)]
    [InlineData("apns", TokenPresets.TooManyRequests)]
    [InlineData("apns", TokenPresets.InternalError)]
    [InlineData("apns", TokenPresets.Reset)]
    [InlineData("fcm", TokenPresets.FcmUnavailable)]
    [InlineData("fcm", TokenPresets.FcmQuotaExceeded)]
    [InlineData("fcm", TokenPresets.FcmProjectQuota)]
    [InlineData("fcm", TokenPresets.FcmInternal)]
    public async Task Transient_IsRetriedUntilDelivered(string platform, string preset)
    {
        var (project, _, endpoint, token) = platform == "apns" ? await ApnsEndpointAsync() : await FcmEndpointAsync();
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Preset = preset, Times = 2 });
        var messageId = await SendAsync(project, endpoint);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        Assert.Equal(1, message["counts"]!["delivered"]!.GetValue<long>());
        Assert.Equal(3, (await DeliveryGateway.SingleDeliveryAsync(project.Client, messageId, Ct))["attempts"]!.GetValue<int>());
        Assert.True((await EndpointAsync(project, endpoint))["enabled"]!.GetValue<bool>());
    }

    [Fact]
    public async Task RetryAfter_IsHonoured()
    {
        var (project, _, endpoint, token) = await FcmEndpointAsync();
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Preset = TokenPresets.FcmUnavailable, RetryAfter = 2, Times = 1 });
        var messageId = await SendAsync(project, endpoint);
        await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        var received = gateway.Simulator.State.GetReceived("fcm", token).Items;
        Assert.Equal(2, received.Count);
        var gap = received[1].ReceivedAt - received[0].ReceivedAt;
        Assert.True(gap >= TimeSpan.FromSeconds(1.9), $"retried after {gap.TotalMilliseconds} ms despite Retry-After: 2");
    }

    [Fact]
    public async Task Transient_UpToAttemptLimit_ThenFailed()
    {
        var (project, _, endpoint, token) = await ApnsEndpointAsync();
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Preset = TokenPresets.ServiceUnavailable });
        var messageId = await SendAsync(project, endpoint);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        Assert.Equal(1, message["counts"]!["failed"]!.GetValue<long>());
        var delivery = await DeliveryGateway.SingleDeliveryAsync(project.Client, messageId, Ct);
        Assert.Equal(4, delivery["attempts"]!.GetValue<int>());
        Assert.Equal(503, delivery["provider"]!["status"]!.GetValue<int>());
        Assert.Equal(4, gateway.Simulator.State.GetReceived("apns", token).Items.Count);
        Assert.True((await EndpointAsync(project, endpoint))["enabled"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Transient_UntilTtlRunsOut_ThenExpired()
    {
        var (project, _, endpoint, token) = await ApnsEndpointAsync();
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Preset = TokenPresets.ServiceUnavailable, RetryAfter = 1 });
        var messageId = await SendAsync(project, endpoint, ttl: 2);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        Assert.Equal(1, message["counts"]!["expired"]!.GetValue<long>());
        Assert.InRange(gateway.Simulator.State.GetReceived("apns", token).Items.Count, 1, 3);
    }

    [Fact]
    public async Task TtlRunsOutWhileQueued_Expired_NotSent()
    {
        var (project, appId, endpoint, token) = await FcmEndpointAsync();
        await project.Client.PatchAsJsonAsync($"v1/applications/{appId}", new { enabled = false }, Ct);
        var messageId = await SendAsync(project, endpoint, ttl: 1);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        Assert.Equal(1, message["counts"]!["expired"]!.GetValue<long>());
        Assert.Equal("expired", (await DeliveryGateway.SingleDeliveryAsync(project.Client, messageId, Ct))["state"].Str());
        await project.Client.PatchAsJsonAsync($"v1/applications/{appId}", new { enabled = true }, Ct);
        await Task.Delay(500, Ct);
        Assert.Empty(gateway.Simulator.State.GetReceived("fcm", token).Items);
    }

    [Fact]
    public async Task TimeSpentQueued_IsSubtractedFromTheTtlSentOn()
    {
        var (project, appId, endpoint, token) = await FcmEndpointAsync();
        await project.Client.PatchAsJsonAsync($"v1/applications/{appId}", new { enabled = false }, Ct);
        var messageId = await SendAsync(project, endpoint, ttl: 60);
        await Task.Delay(3000, Ct);
        await project.Client.PatchAsJsonAsync($"v1/applications/{appId}", new { enabled = true }, Ct);
        await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        var body = JsonNode.Parse(Assert.Single(gateway.Simulator.State.GetReceived("fcm", token).Items).Body!.Value.GetRawText())!;
        var ttl = int.Parse(body["message"]!["android"]!["ttl"].Str().TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(ttl, 50, 58);
    }

    [Fact]
    public async Task EndpointDisabledAfterQueueing_IsSkipped()
    {
        var (project, appId, endpoint, token) = await ApnsEndpointAsync();
        await project.Client.PatchAsJsonAsync($"v1/applications/{appId}", new { enabled = false }, Ct);
        var messageId = await SendAsync(project, endpoint);
        await project.Client.PatchAsJsonAsync($"v1/endpoints/{endpoint.Id()}", new { enabled = false }, Ct);
        await project.Client.PatchAsJsonAsync($"v1/applications/{appId}", new { enabled = true }, Ct);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        Assert.Equal(1, message["counts"]!["skipped"]!.GetValue<long>());
        Assert.Empty(gateway.Simulator.State.GetReceived("apns", token).Items);
    }
}
