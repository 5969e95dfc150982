using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using PushGateway.Fcm;
using PushGateway.Simulator;

namespace PushGateway.Tests.Fcm;

/// <summary>A simulator whose clock is a <see cref="FakeTimeProvider"/> shared with the client.</summary>
public sealed class FakeClockSimulatorFixture : FcmSimulatorFixture
{
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    protected override SimulatorOptions CreateOptions() => new() { RecordRequests = true, TimeProvider = Time };
}

public sealed class FcmAccessTokenClockTests(FakeClockSimulatorFixture fixture) : IClassFixture<FakeClockSimulatorFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SendAsync_AccessTokenNearExpiryOnTheOptionsClock_IsRefreshedBeforeUse()
    {
        var json = await fixture.CreateServiceAccountAsync(FcmSimulatorFixture.NewProject(), Ct);
        using var client = fixture.CreateClient(json, timeProvider: fixture.Time);
        var start = await fixture.FcmCountersAsync(Ct);

        Assert.True((await client.SendAsync(new FcmMessage { Token = FcmSimulatorFixture.NewToken() }, cancellationToken: Ct)).IsSuccess);
        fixture.Time.Advance(TimeSpan.FromMinutes(30));
        Assert.True((await client.SendAsync(new FcmMessage { Token = FcmSimulatorFixture.NewToken() }, cancellationToken: Ct)).IsSuccess);
        var halfway = await fixture.FcmCountersAsync(Ct);

        // 3599 s tokens: Google.Apis.Auth 1.78 stops using one 60 s before expiry, so at 59.5 minutes it must fetch
        // a new one first. Had it used the wall clock, it would send the old token, which the simulator (on the same
        // fake clock) now considers expired.
        fixture.Time.Advance(TimeSpan.FromMinutes(29.5));
        var response = await client.SendAsync(new FcmMessage { Token = FcmSimulatorFixture.NewToken() }, cancellationToken: Ct);
        var end = await fixture.FcmCountersAsync(Ct);

        Assert.Equal(start.TokenRequests + 1, halfway.TokenRequests);
        Assert.Equal(FcmResponseClass.Delivered, response.Class);
        Assert.Equal(start.TokenRequests + 2, end.TokenRequests);
        Assert.Equal(halfway.Requests + 1, end.Requests);
    }
}

/// <summary>Own simulator: these tests change its global latency setting.</summary>
public sealed class FcmClientConcurrencyTests(FcmSimulatorFixture fixture) : IClassFixture<FcmSimulatorFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SendAsync_MoreCallsThanMaxConcurrentRequests_WaitForAFreeSlot()
    {
        var json = await fixture.CreateServiceAccountAsync(FcmSimulatorFixture.NewProject(), Ct);
        using var client = fixture.CreateClient(json, o => o.MaxConcurrentRequests = 2);
        Assert.True((await client.SendAsync(new FcmMessage { Token = FcmSimulatorFixture.NewToken() }, cancellationToken: Ct)).IsSuccess);
        await fixture.UpdateSettingsAsync(new { latencyMs = 300 }, Ct);
        var stopwatch = Stopwatch.StartNew();

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => client.SendAsync(new FcmMessage { Token = FcmSimulatorFixture.NewToken() }, cancellationToken: Ct)));

        stopwatch.Stop();
        await fixture.UpdateSettingsAsync(new { latencyMs = 0 }, Ct);
        Assert.All(responses, r => Assert.Equal(FcmResponseClass.Delivered, r.Class));
        // Six 300 ms requests two at a time take at least three rounds; unbounded they would take one.
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(850), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task SendAsync_ManyConcurrentRequests_AllDelivered()
    {
        var json = await fixture.CreateServiceAccountAsync(FcmSimulatorFixture.NewProject(), Ct);
        using var client = fixture.CreateClient(json);

        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => client.SendAsync(new FcmMessage { Token = FcmSimulatorFixture.NewToken() }, cancellationToken: Ct)));

        Assert.All(responses, r => Assert.Equal(FcmResponseClass.Delivered, r.Class));
        Assert.Equal(200, responses.Select(r => r.MessageName).Distinct().Count());
    }
}
