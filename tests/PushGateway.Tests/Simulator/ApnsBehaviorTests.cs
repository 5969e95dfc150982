using System.Diagnostics;
using System.Net;
using PushGateway.Simulator;

namespace PushGateway.Tests.Simulator;

/// <summary>Token behaviours and presets, failure rate, latency, GOAWAY, concurrency, received list and counters.</summary>
public sealed class ApnsBehaviorTests
{
    private const string Token = ApnsTestContext.Token;

    [Theory]
    [InlineData(TokenPresets.Ok, 200, null)]
    [InlineData(TokenPresets.Unregistered, 410, ApnsReasons.Unregistered)]
    [InlineData(TokenPresets.ExpiredToken, 410, ApnsReasons.ExpiredToken)]
    [InlineData(TokenPresets.BadDeviceToken, 400, ApnsReasons.BadDeviceToken)]
    [InlineData(TokenPresets.NotForTopic, 400, ApnsReasons.DeviceTokenNotForTopic)]
    [InlineData(TokenPresets.TooManyRequests, 429, ApnsReasons.TooManyRequests)]
    [InlineData(TokenPresets.InternalError, 500, ApnsReasons.InternalServerError)]
    [InlineData(TokenPresets.ServiceUnavailable, 503, ApnsReasons.ServiceUnavailable)]
    [InlineData(TokenPresets.Shutdown, 503, ApnsReasons.Shutdown)]
    [InlineData(TokenPresets.IdleTimeout, 400, ApnsReasons.IdleTimeout)]
    [InlineData(TokenPresets.PayloadTooLarge, 413, ApnsReasons.PayloadTooLarge)]
    [InlineData(TokenPresets.FcmUnregistered, 410, ApnsReasons.Unregistered)]
    [InlineData(TokenPresets.FcmQuotaExceeded, 429, ApnsReasons.TooManyRequests)]
    public async Task Send_TokenWithPreset_AnswersThePresetsStatusAndReason(string preset, int status, string? reason)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        t.State.SetTokenBehavior(Token, new TokenBehavior { Preset = preset });

        var reply = await t.SendAsync(cancellationToken: ct);

        Assert.Equal((status, reason), ((int)reply.Status, reply.Reason));
        Assert.Equal(status == 410, reply.Timestamp is not null);
        if (status == 410)
        {
            Assert.Equal(t.Time.GetUtcNow().ToUnixTimeMilliseconds(), reply.Timestamp);
        }
    }

    [Fact]
    public async Task Send_UnregisteredWithTimestampAndRetryAfter_ReturnsThem()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        t.State.SetTokenBehavior(Token, new TokenBehavior { Preset = TokenPresets.Unregistered, Timestamp = 1_700_000_000_123 });
        t.State.SetTokenBehavior("beef", new TokenBehavior { Preset = TokenPresets.TooManyRequests, RetryAfter = 7 });

        var gone = await t.SendAsync(cancellationToken: ct);
        var slowDown = await t.SendAsync(token: "beef", cancellationToken: ct);

        Assert.Equal(1_700_000_000_123, gone.Timestamp);
        Assert.Equal(((HttpStatusCode)429, "7"), (slowDown.Status, slowDown.RetryAfter));
    }

    [Fact]
    public async Task Send_ExplicitApnsAnswer_IsReturnedAsGiven()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        t.State.SetTokenBehavior(Token, new TokenBehavior { Apns = new ApnsAnswer { Status = 403, Reason = ApnsReasons.Forbidden } });
        t.State.SetTokenBehavior("cafe", new TokenBehavior { Apns = new ApnsAnswer { Status = 410, Reason = ApnsReasons.Unregistered, Timestamp = 42 } });

        var forbidden = await t.SendAsync(cancellationToken: ct);
        var gone = await t.SendAsync(token: "cafe", cancellationToken: ct);

        Assert.Equal((HttpStatusCode.Forbidden, ApnsReasons.Forbidden, (long?)null), (forbidden.Status, forbidden.Reason, forbidden.Timestamp));
        Assert.Equal((HttpStatusCode.Gone, ApnsReasons.Unregistered, (long?)42), (gone.Status, gone.Reason, gone.Timestamp));
    }

    [Fact]
    public async Task Send_BehaviourWithTimes_AnswersThatManyTimesThenNormally()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        t.State.SetTokenBehavior(Token, new TokenBehavior { Preset = TokenPresets.ServiceUnavailable, Times = 2 });

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await t.SendAsync(cancellationToken: ct)).Status);
        }

        Assert.Equal([HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK, HttpStatusCode.OK], statuses);
    }

    [Fact]
    public async Task Send_AfterBehaviourCleared_BehavesNormally()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        t.State.SetTokenBehavior(Token, new TokenBehavior { Preset = TokenPresets.Unregistered });

        var before = await t.SendAsync(cancellationToken: ct);
        Assert.True(t.State.ClearTokenBehavior(Token));
        var after = await t.SendAsync(cancellationToken: ct);

        Assert.Equal(HttpStatusCode.Gone, before.Status);
        Assert.Equal(HttpStatusCode.OK, after.Status);
    }

    [Fact]
    public async Task Send_TokenOfTheOtherEnvironment_IsBadDeviceToken()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        t.State.SetTokenBehavior(Token, new TokenBehavior { Environment = ApnsEnvironment.Sandbox });

        var production = await t.SendAsync(cancellationToken: ct);
        var sandbox = await t.SendAsync(sandbox: true, cancellationToken: ct);

        Assert.Equal((HttpStatusCode.BadRequest, ApnsReasons.BadDeviceToken), (production.Status, production.Reason));
        Assert.Equal(HttpStatusCode.OK, sandbox.Status);
    }

    [Fact]
    public async Task Send_TokenOfAnotherTopic_IsDeviceTokenNotForTopic()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        t.State.SetTokenBehavior(Token, new TokenBehavior { Topic = ApnsTestContext.Topic + ".voip" });

        var alert = await t.SendAsync(cancellationToken: ct);
        var voip = await t.SendAsync(topic: ApnsTestContext.Topic + ".voip", configure: r => r.Headers.Add("apns-push-type", "voip"), cancellationToken: ct);

        Assert.Equal((HttpStatusCode.BadRequest, ApnsReasons.DeviceTokenNotForTopic), (alert.Status, alert.Reason));
        Assert.Equal(HttpStatusCode.OK, voip.Status);
    }

    [Fact]
    public async Task Send_ResetPreset_FailsTheRequestAtTransportLevel()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        t.State.SetTokenBehavior(Token, new TokenBehavior { Preset = TokenPresets.Reset, Times = 1 });

        var failure = await Record.ExceptionAsync(() => t.SendAsync(cancellationToken: ct));
        var next = await t.SendAsync(cancellationToken: ct);

        Assert.IsType<HttpRequestException>(failure);
        Assert.Equal(HttpStatusCode.OK, next.Status);
        var item = t.State.GetReceived("apns").Items[0];
        Assert.Equal((0, "reset"), (item.Status, item.Reason));
    }

    [Fact]
    public async Task Send_HangPreset_NeverAnswersSoTheClientTimesOut()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        t.State.SetTokenBehavior(Token, new TokenBehavior { Preset = TokenPresets.Hang });
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMilliseconds(500));

        var failure = await Record.ExceptionAsync(() => t.SendAsync(cancellationToken: timeout.Token));

        Assert.IsAssignableFrom<OperationCanceledException>(failure);
        Assert.True(await Eventually.TrueAsync(() => t.State.GetReceived("apns").Items.Count == 1, cancellationToken: ct));
        Assert.Equal("hang", t.State.GetReceived("apns").Items[0].Reason);
    }

    [Fact]
    public async Task Send_ShutdownPreset_Answers503ShutdownThenGoAway()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        t.State.SetTokenBehavior(Token, new TokenBehavior { Preset = TokenPresets.Shutdown, Times = 1 });

        var shutdown = await t.SendAsync(cancellationToken: ct);
        Assert.True(await Eventually.TrueAsync(() => t.State.GetCounters().Apns.GoAwaysSent == 1, cancellationToken: ct));
        var next = await t.SendAsync(cancellationToken: ct);

        Assert.Equal((HttpStatusCode.ServiceUnavailable, ApnsReasons.Shutdown), (shutdown.Status, shutdown.Reason));
        Assert.Equal(HttpStatusCode.OK, next.Status);
        Assert.Equal(2, t.State.GetCounters().Apns.ConnectionsOpened);
    }

    [Fact]
    public async Task Send_WithGoAwayEveryThreeStreams_ClosesConnectionsGracefully()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        t.State.UpdateSettings(new SimulatorSettingsUpdate { GoAwayEveryStreams = 3 });

        for (var i = 0; i < 9; i++)
        {
            var reply = await t.SendAsync(cancellationToken: ct);
            Assert.Equal(HttpStatusCode.OK, reply.Status);
        }

        var counters = t.State.GetCounters().Apns;
        Assert.Equal(9, counters.Accepted);
        Assert.True(counters.GoAwaysSent >= 2, $"goAwaysSent = {counters.GoAwaysSent}");
        Assert.True(counters.ConnectionsOpened >= 3, $"connectionsOpened = {counters.ConnectionsOpened}");
    }

    [Fact]
    public async Task Send_WithFailureRateOne_Answers503ServiceUnavailable()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        t.State.UpdateSettings(new SimulatorSettingsUpdate { FailureRate = 1 });
        t.State.SetTokenBehavior("00ff", new TokenBehavior { Preset = TokenPresets.Ok });

        var random = await t.SendAsync(cancellationToken: ct);
        var forcedOk = await t.SendAsync(token: "00ff", cancellationToken: ct);

        Assert.Equal((HttpStatusCode.ServiceUnavailable, ApnsReasons.ServiceUnavailable), (random.Status, random.Reason));
        Assert.Equal(HttpStatusCode.OK, forcedOk.Status);
    }

    [Fact]
    public async Task Send_WithLatency_AnswersNoSoonerThanTheLatency()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        await t.SendAsync(cancellationToken: ct); // connection set up outside the measurement
        t.State.UpdateSettings(new SimulatorSettingsUpdate { LatencyMs = 300, LatencyJitterMs = 50 });

        var watch = Stopwatch.StartNew();
        var reply = await t.SendAsync(cancellationToken: ct);
        watch.Stop();

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.True(watch.ElapsedMilliseconds >= 290, $"answered after {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Send_ConcurrentRequests_AreCappedByMaxConcurrentStreamsOnNewConnections()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        t.State.UpdateSettings(new SimulatorSettingsUpdate { LatencyMs = 150 });

        // Default limit (1000): eight requests run at once on one connection.
        await t.SendAsync(cancellationToken: ct);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => t.SendAsync(cancellationToken: ct)));
        var wide = t.State.GetCounters().Apns.MaxConcurrentStreamsObserved;

        // Lowered at runtime (after a reset, so the observed maximum starts again): a connection opened
        // afterwards advertises 2, and the client obeys it.
        t.State.Reset();
        t.State.UpdateSettings(new SimulatorSettingsUpdate { MaxConcurrentStreams = 2, LatencyMs = 150 });
        var key = t.State.AddApnsKey(new ApnsKeyRequest { TeamId = ApnsTestContext.TeamId });
        var jwt = TestJwt.Es256(key.PrivateKeyPem!, key.KeyId, key.TeamId, t.Time.GetUtcNow());
        using var narrowClient = t.NewClient();
        await t.SendAsync(jwt: jwt, client: narrowClient, cancellationToken: ct);
        var replies = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => t.SendAsync(jwt: jwt, client: narrowClient, cancellationToken: ct)));
        var narrow = t.State.GetCounters().Apns.MaxConcurrentStreamsObserved;

        Assert.True(wide >= 8, $"observed {wide} with the default limit");
        Assert.All(replies, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.Equal(2, narrow);
    }

    [Fact]
    public async Task Received_RecordsHeadersBodyAndOutcome_ButNeverAuthorization()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        var id = Guid.NewGuid().ToString();

        await t.SendAsync(body: """{"aps":{"alert":"one"},"k":1}""", sandbox: true, configure: r =>
        {
            r.Headers.Add("apns-id", id);
            r.Headers.Add("apns-push-type", "alert");
            r.Headers.Add("apns-priority", "5");
            r.Headers.Add("apns-expiration", "0");
            r.Headers.Add("apns-collapse-id", "c1");
        }, cancellationToken: ct);
        await t.SendAsync(token: "abcd", cancellationToken: ct);
        await t.SendAsync(token: "abc", cancellationToken: ct);

        var all = t.State.GetReceived("apns");
        var first = all.Items[0];
        Assert.Equal(3, all.Total);
        Assert.Equal(("apns", "sandbox", Token, ApnsTestContext.Topic, 200, (string?)null), (first.Platform, first.Environment, first.Token, first.Topic, first.Status, first.Reason));
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["apns-topic"] = ApnsTestContext.Topic, ["apns-push-type"] = "alert", ["apns-priority"] = "5",
                ["apns-expiration"] = "0", ["apns-collapse-id"] = "c1", ["apns-id"] = id,
            },
            first.Headers);
        Assert.DoesNotContain(first.Headers!.Keys, k => k.Equals("authorization", StringComparison.OrdinalIgnoreCase));
        Assert.Equal("one", first.Body!.Value.GetProperty("aps").GetProperty("alert").GetString());
        Assert.Equal(t.Time.GetUtcNow(), first.ReceivedAt);
        Assert.Equal((400, ApnsReasons.BadDeviceToken), (all.Items[2].Status, all.Items[2].Reason));
        Assert.Equal("production", all.Items[1].Environment);

        var byToken = t.State.GetReceived(token: "abcd");
        Assert.Equal(("abcd", 1), (byToken.Items.Single().Token, byToken.Total));

        var newest = t.State.GetReceived(limit: 1);
        Assert.Equal(("abc", 3), (newest.Items.Single().Token, newest.Total));
        Assert.Empty(t.State.GetReceived("fcm").Items);
    }

    [Fact]
    public async Task Received_IsCappedAndCanBeSwitchedOffAndCleared()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        t.State.UpdateSettings(new SimulatorSettingsUpdate { ReceivedCapacity = 2 });

        foreach (var token in new[] { "01", "02", "03" })
        {
            await t.SendAsync(token: token, cancellationToken: ct);
        }

        var capped = t.State.GetReceived();
        t.State.UpdateSettings(new SimulatorSettingsUpdate { RecordRequests = false });
        await t.SendAsync(token: "04", cancellationToken: ct);
        var afterOff = t.State.GetReceived();
        t.State.ClearReceived();

        Assert.Equal(["02", "03"], capped.Items.Select(i => i.Token));
        Assert.Equal(["02", "03"], afterOff.Items.Select(i => i.Token));
        Assert.Equal(0, t.State.GetReceived().Total);
        Assert.Equal(4, t.State.GetCounters().Apns.Accepted);
    }

    [Fact]
    public async Task Counters_CountRequestsOutcomesReasonsAndConnections()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        t.State.SetTokenBehavior(Token, new TokenBehavior { Preset = TokenPresets.Unregistered, Times = 2 });

        await t.SendAsync(cancellationToken: ct);
        await t.SendAsync(cancellationToken: ct);
        await t.SendAsync(cancellationToken: ct);
        await t.SendAsync(token: "xyz", cancellationToken: ct);
        await t.SendAsync(sandbox: true, cancellationToken: ct);

        var apns = t.State.GetCounters().Apns;
        Assert.Equal((5L, 2L, 3L), (apns.Requests, apns.Accepted, apns.Rejected));
        Assert.Equal(new Dictionary<string, long> { [ApnsReasons.Unregistered] = 2, [ApnsReasons.BadDeviceToken] = 1 }, apns.ByReason);
        Assert.Equal(2, apns.ConnectionsOpened);
        Assert.Equal(1, apns.MaxConcurrentStreamsObserved);
    }
}
