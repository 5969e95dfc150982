using PushGateway.Delivery;

namespace PushGateway.Tests.Delivery;

public sealed class StaleTokenPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("fcm", 271, true)]
    [InlineData("fcm", 270, false)] // exactly the limit: not yet
    [InlineData("fcm", 269, false)]
    [InlineData("apns", 5000, false)] // APNs: off by default
    public void Defaults(string platform, int daysSinceConfirmed, bool stale) =>
        Assert.Equal(stale, StaleTokenPolicy.IsStale(platform, Now.AddDays(-daysSinceConfirmed), new StaleTokenOptions(), Now));

    [Fact]
    public void Configurable_PerPlatform_AndOff()
    {
        var options = new StaleTokenOptions { Apns = TimeSpan.FromDays(60), Fcm = null };
        Assert.True(StaleTokenPolicy.IsStale("apns", Now.AddDays(-61), options, Now));
        Assert.False(StaleTokenPolicy.IsStale("fcm", Now.AddDays(-1000), options, Now));
        Assert.Null(StaleTokenPolicy.Cutoff("fcm", options, Now));
        Assert.Equal(Now.AddDays(-60), StaleTokenPolicy.Cutoff("apns", options, Now));
    }
}

public sealed class PreSendStaleCheckTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    private static ClaimedDelivery Claimed(bool enabled = true) =>
        new(1, Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), 1, Now.AddHours(1), "token", enabled, Now.AddSeconds(30), Now.AddDays(-300));

    [Fact]
    public void StaleEndpoint_IsSkipped_WithItsReason_AndNoAttemptCounted()
    {
        var result = PreSendCheck.Decide(Claimed(), true, true, true, Now, endpointStale: true);
        Assert.NotNull(result);
        Assert.Equal("skipped", result.State);
        Assert.Equal(PreSendCheck.StaleSkipReason, result.ProviderReason);
        Assert.Equal(0, result.Attempts);
    }

    [Fact]
    public void FreshEndpoint_IsSent_AndDisabledOneSaysDisabled()
    {
        Assert.Null(PreSendCheck.Decide(Claimed(), true, true, true, Now, endpointStale: false));
        Assert.Equal("endpoint disabled", PreSendCheck.Decide(Claimed(enabled: false), true, true, true, Now, endpointStale: true)!.ProviderReason);
    }
}
