using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using PushGateway.Apns;

namespace PushGateway.Tests.Apns;

/// <summary>
/// Provider-token renewal with the client and the simulator on one fake clock, so the simulator's one-hour expiry
/// and 20-minutes-per-connection rules judge exactly what the client does.
/// </summary>
public sealed class ApnsClientTokenRenewalTests
{
    // Near the real date: the simulator dates its TLS certificate from the clock it is given, and TLS checks it
    // against the real one.
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SendAsync_OverTwoHours_KeepsTheTokenFiftyMinutesAndNeverGetsRejected()
    {
        var time = new FakeTimeProvider(Start);
        await using var simulator = await ApnsSimulator.StartAsync(time, cancellationToken: Ct);
        var credentials = await simulator.AddKeyAsync(cancellationToken: Ct);
        var cache = new ApnsProviderTokenCache(time);
        await using var client = new ApnsClient(simulator.Options(timeProvider: time), credentials, cache);
        var seen = new List<(TimeSpan At, string Jwt)>();

        for (var minute = 0; minute <= 130; minute += 1)
        {
            time.SetUtcNow(Start.AddMinutes(minute));
            var response = await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);
            Assert.True(response.IsAccepted, $"minute {minute}: {response}");
            seen.Add((TimeSpan.FromMinutes(minute), cache.GetToken(credentials)));
        }

        var changes = seen.Where((s, i) => i > 0 && s.Jwt != seen[i - 1].Jwt).Select(s => s.At.TotalMinutes).ToArray();
        Assert.Equal([50.0, 100.0], changes);
        Assert.Equal(Start.AddMinutes(50).ToUnixTimeSeconds(), ApnsProviderTokenCacheTests.Iat(seen[50].Jwt));
        // A connection presents one token: each renewal moved the client to a new connection.
        var counters = await simulator.GetApnsCountersAsync(Ct);
        Assert.Equal(3, counters["connectionsOpened"]!.GetValue<int>());
        Assert.Equal(131, counters["accepted"]!.GetValue<int>());
    }

    [Fact]
    public async Task SendAsync_ConnectionThatGotItsFirstTokenLate_IsReplacedInsteadOfChangingToken()
    {
        var time = new FakeTimeProvider(Start);
        await using var simulator = await ApnsSimulator.StartAsync(time, cancellationToken: Ct);
        var credentials = await simulator.AddKeyAsync(cancellationToken: Ct);
        var cache = new ApnsProviderTokenCache(time);
        await using var early = new ApnsClient(simulator.Options(timeProvider: time), credentials, cache);
        await using var late = new ApnsClient(simulator.Options(timeProvider: time), credentials, cache);

        var first = await early.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);
        time.Advance(TimeSpan.FromMinutes(45));
        var lateFirst = await late.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct); // same token, new connection
        time.Advance(TimeSpan.FromMinutes(6)); // token renewed at 50 min; the late connection saw its token 6 minutes ago
        var earlyAfter = await early.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);
        var lateAfter = await late.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);

        Assert.True(first.IsAccepted, first.ToString());
        Assert.True(lateFirst.IsAccepted, lateFirst.ToString());
        Assert.True(earlyAfter.IsAccepted, earlyAfter.ToString());
        Assert.True(lateAfter.IsAccepted, lateAfter.ToString()); // not 429 TooManyProviderTokenUpdates
        var counters = await simulator.GetApnsCountersAsync(Ct);
        Assert.Equal(4, counters["connectionsOpened"]!.GetValue<int>());
        Assert.False(counters["byReason"]!.AsObject().ContainsKey("TooManyProviderTokenUpdates"));
    }

    [Fact]
    public async Task SendAsync_ExpiredProviderTokenAnswer_RenewsAtOnceAndTheNextRequestSucceeds()
    {
        var time = new FakeTimeProvider(Start);
        await using var simulator = await ApnsSimulator.StartAsync(time, cancellationToken: Ct);
        var credentials = await simulator.AddKeyAsync(cancellationToken: Ct);
        var cache = new ApnsProviderTokenCache(time);
        await using var client = new ApnsClient(simulator.Options(timeProvider: time), credentials, cache);
        var token = ApnsTestData.NewDeviceToken();

        var first = await client.SendAsync(ApnsTestData.Request(token), Ct);
        var jwtBefore = cache.GetToken(credentials);
        time.Advance(TimeSpan.FromMinutes(5));
        await simulator.SetTokenAsync(
            token, new JsonObject { ["apns"] = new JsonObject { ["status"] = 403, ["reason"] = "ExpiredProviderToken" }, ["times"] = 1 }, Ct);
        var expired = await client.SendAsync(ApnsTestData.Request(token), Ct);
        var jwtAfter = cache.GetToken(credentials);
        var retried = await client.SendAsync(ApnsTestData.Request(token), Ct);

        Assert.True(first.IsAccepted, first.ToString());
        Assert.Equal(ApnsResponseClass.ProviderTokenExpired, expired.Class);
        Assert.NotEqual(jwtBefore, jwtAfter);
        Assert.Equal(Start.AddMinutes(5).ToUnixTimeSeconds(), ApnsProviderTokenCacheTests.Iat(jwtAfter));
        Assert.True(retried.IsAccepted, retried.ToString()); // new connection: no TooManyProviderTokenUpdates
        Assert.Equal(jwtAfter, cache.GetToken(credentials));
    }

    [Fact]
    public async Task SendAsync_TokenMoreThanAnHourOldOnTheServersClock_ReturnsProviderTokenExpiredAndInvalidatesIt()
    {
        var serverTime = new FakeTimeProvider(Start.AddMinutes(70));
        var clientTime = new FakeTimeProvider(Start); // a client clock 70 minutes slow
        await using var simulator = await ApnsSimulator.StartAsync(serverTime, cancellationToken: Ct);
        var credentials = await simulator.AddKeyAsync(cancellationToken: Ct);
        var cache = new ApnsProviderTokenCache(clientTime);
        await using var client = new ApnsClient(simulator.Options(timeProvider: clientTime), credentials, cache);
        var jwt = cache.GetToken(credentials);

        var response = await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);

        Assert.Equal((403, ApnsReason.ExpiredProviderToken, ApnsResponseClass.ProviderTokenExpired), (response.StatusCode, response.Reason, response.Class));
        Assert.NotEqual(jwt, cache.GetToken(credentials));
    }

    [Fact]
    public async Task SendAsync_RenewalWhileManyRequestsAreInFlight_NeverGetsTooManyProviderTokenUpdates()
    {
        var time = new FakeTimeProvider(Start);
        await using var simulator = await ApnsSimulator.StartAsync(time, cancellationToken: Ct);
        await simulator.PutSettingsAsync(new JsonObject { ["latencyMs"] = 5 }, Ct);
        var credentials = await simulator.AddKeyAsync(cancellationToken: Ct);
        var cache = new ApnsProviderTokenCache(time);
        var options = simulator.Options(timeProvider: time);
        options.RequestTimeout = TimeSpan.FromHours(2); // request timeouts run on the fake clock too
        await using var client = new ApnsClient(options, credentials, cache);
        await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);
        time.Advance(TimeSpan.FromMinutes(49));

        // Twenty senders keep requests in flight while the clock crosses the 50-minute renewal.
        var sending = Enumerable.Range(0, 20).Select(async _ =>
        {
            var answers = new List<ApnsResponse>();
            for (var i = 0; i < 15; i++)
            {
                answers.Add(await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct));
            }

            return answers;
        }).ToArray();
        await Task.Delay(30, Ct);
        time.Advance(TimeSpan.FromMinutes(2));
        var responses = (await Task.WhenAll(sending)).SelectMany(a => a).ToArray();

        Assert.All(responses, r => Assert.True(r.IsAccepted, r.ToString()));
        Assert.Equal(Start.AddMinutes(51).ToUnixTimeSeconds(), ApnsProviderTokenCacheTests.Iat(cache.GetToken(credentials)));
    }

    [Fact]
    public async Task SendAsync_TwoClientsSharingTheCache_PresentTheSameToken()
    {
        var time = new FakeTimeProvider(Start);
        await using var simulator = await ApnsSimulator.StartAsync(time, cancellationToken: Ct);
        var credentials = await simulator.AddKeyAsync(cancellationToken: Ct);
        var cache = new ApnsProviderTokenCache(time);
        await using var production = new ApnsClient(simulator.Options(timeProvider: time), credentials, cache);
        await using var sandbox = new ApnsClient(simulator.Options(sandbox: true, timeProvider: time), credentials, cache);

        var a = await production.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);
        var jwt = cache.GetToken(credentials);
        time.Advance(TimeSpan.FromMinutes(30));
        var b = await sandbox.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);

        Assert.True(a.IsAccepted && b.IsAccepted, $"{a} / {b}");
        Assert.Equal(jwt, cache.GetToken(credentials));
    }
}
