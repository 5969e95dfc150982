using PushGateway.Delivery;

namespace PushGateway.Tests.Delivery;

/// <summary>
/// Misconfiguration is not death, without a database: the guard's borders with the default thresholds (20 answers of
/// the blamed kinds making up 80% of an application's answers within 10 minutes).
/// </summary>
public sealed class MisconfigurationGuardTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid App = Guid.NewGuid();

    private static readonly DeliveryOutcome NotForTopic = new DeliveryOutcome.TokenDead(400, "DeviceTokenNotForTopic", "apns:400:DeviceTokenNotForTopic", null,
        Misconfiguration: "wrong bundle id");
    private static readonly DeliveryOutcome Unregistered = new DeliveryOutcome.TokenDead(410, "Unregistered", "apns:410:Unregistered", Now, Uninstalled: true);
    private static readonly DeliveryOutcome Delivered = new DeliveryOutcome.Delivered(200, "id");

    private static MisconfigurationGuard Guard(int minAnswers = 20) => new(new DeliveryOptions { MisconfigurationMinAnswers = minAnswers });

    private static List<DeliveryOutcome> Feed(MisconfigurationGuard guard, IEnumerable<DeliveryOutcome> answers, int version = 1, DateTimeOffset? at = null) =>
        answers.Select(a => guard.Review(App, version, a, at ?? Now)).ToList();

    [Fact]
    public void WrongBundleIdForEveryDevice_TripsAtTheTwentiethAnswer()
    {
        var reviewed = Feed(Guard(), Enumerable.Repeat(NotForTopic, 200));
        Assert.All(reviewed.Take(19), r => Assert.IsType<DeliveryOutcome.TokenDead>(r));
        Assert.All(reviewed.Skip(19), r => Assert.IsType<DeliveryOutcome.Misconfigured>(r));
        var trip = (DeliveryOutcome.Misconfigured)reviewed[19];
        Assert.StartsWith("misconfiguration: wrong bundle id (20 of 20 answers", trip.DisabledReason, StringComparison.Ordinal);
        Assert.Equal(Now, trip.Since);
    }

    [Fact]
    public void OnlyTheTrippingAnswer_MayBeProbed_AndTheProbeDecides()
    {
        var reviewed = Feed(Guard(), Enumerable.Repeat(NotForTopic, 200));
        var trip = Assert.Single(reviewed.OfType<DeliveryOutcome.Misconfigured>(), m => m.IsTrip);
        Assert.Same(reviewed[19], trip);

        var probable = trip with { DisabledReason = "misconfiguration: probably sandbox tokens sent to production (20 of 20)" };
        var confirmed = MisconfigurationGuard.AfterProbe(probable, new DeliveryOutcome.Delivered(200, "apns-id"), "sandbox");
        Assert.StartsWith("misconfiguration: confirmed sandbox tokens sent to production", confirmed.DisabledReason, StringComparison.Ordinal);
        Assert.NotNull(confirmed.DeliveredByProbe);
        var refused = MisconfigurationGuard.AfterProbe(probable, NotForTopic, "sandbox");
        Assert.Contains("refused too", refused.DisabledReason, StringComparison.Ordinal);
        Assert.Null(refused.DeliveredByProbe);
        Assert.Same(probable, MisconfigurationGuard.AfterProbe(probable, new DeliveryOutcome.Retry(null, "transport", null), "sandbox"));
    }

    [Fact]
    public void TenRealDeathsInTwoHundred_AreDeaths()
    {
        var answers = Enumerable.Repeat(Delivered, 190).Concat(Enumerable.Repeat(Unregistered, 10));
        Assert.DoesNotContain(Feed(Guard(), answers), r => r is DeliveryOutcome.Misconfigured);
    }

    [Fact]
    public void TenBlamedAnswersAmongSuccesses_AreDeaths()
    {
        // A few development builds' sandbox tokens in a production app: those devices are wrong, not the app.
        var answers = Enumerable.Repeat(Delivered, 190).Concat(Enumerable.Repeat(NotForTopic, 10));
        Assert.DoesNotContain(Feed(Guard(), answers), r => r is DeliveryOutcome.Misconfigured);
    }

    [Fact]
    public void OneDeviceApplication_ItsDeviceIsDisabled()
    {
        Assert.IsType<DeliveryOutcome.TokenDead>(Feed(Guard(), [NotForTopic]).Single());
    }

    [Theory]
    [InlineData(19, 0, false)] // too few
    [InlineData(20, 0, true)]  // the count
    [InlineData(20, 5, true)]  // exactly 80%
    [InlineData(20, 6, false)] // just under 80%
    public void Borders(int blamed, int delivered, bool trips)
    {
        var answers = Enumerable.Repeat(Delivered, delivered).Concat(Enumerable.Repeat(NotForTopic, blamed));
        Assert.Equal(trips, Feed(Guard(), answers).Any(r => r is DeliveryOutcome.Misconfigured));
    }

    [Fact]
    public void RetriesAndCredentialFailures_AreNotCounted()
    {
        var guard = Guard();
        var answers = Enumerable.Repeat<DeliveryOutcome>(new DeliveryOutcome.Retry(503, "x", null), 100).Concat(Enumerable.Repeat(NotForTopic, 20));
        Assert.IsType<DeliveryOutcome.Misconfigured>(Feed(guard, answers).Last());
    }

    [Fact]
    public void NewCredentialsVersion_StartsAFreshCount()
    {
        var guard = Guard();
        Feed(guard, Enumerable.Repeat(NotForTopic, 30), version: 1);
        Assert.IsType<DeliveryOutcome.TokenDead>(Feed(guard, [NotForTopic], version: 2).Single());
    }

    [Fact]
    public void AnswersSpreadPastTheWindow_DoNotAddUp()
    {
        var guard = Guard();
        Feed(guard, Enumerable.Repeat(NotForTopic, 15), at: Now);
        Assert.DoesNotContain(Feed(guard, Enumerable.Repeat(NotForTopic, 15), at: Now.AddMinutes(11)), r => r is DeliveryOutcome.Misconfigured);
    }

    [Fact]
    public void Off_WhenMinAnswersIsZero()
    {
        Assert.DoesNotContain(Feed(Guard(minAnswers: 0), Enumerable.Repeat(NotForTopic, 100)), r => r is DeliveryOutcome.Misconfigured);
    }

    [Fact]
    public void OutcomeTable_Misconfigured_HoldsTheDelivery_DisablesTheApplication_KeepsTheEndpoint()
    {
        var claimed = new ClaimedDelivery(1, Guid.NewGuid(), Guid.NewGuid(), App, 1, Now.AddHours(1), "token", true, Now.AddSeconds(30));
        var result = OutcomeTable.Apply(claimed, App, 3, new DeliveryOutcome.Misconfigured(400, "DeviceTokenNotForTopic", "misconfiguration: x", Now.AddMinutes(-1)),
            3600, Now, 0.5, new DeliveryOptions());
        Assert.Equal("held", result.State);
        Assert.Null(result.DisableEndpoint);
        Assert.Equal(new ApplicationDisable(App, 3, "misconfiguration: x", Now.AddMinutes(-1)), result.DisableApplication);
    }

    [Fact]
    public void Uninstall_UnbindsTheUser_OtherDeathsDoNot()
    {
        var claimed = new ClaimedDelivery(1, Guid.NewGuid(), Guid.NewGuid(), App, 1, Now.AddHours(1), "token", true, Now.AddSeconds(30));
        Assert.True(OutcomeTable.Apply(claimed, App, 1, Unregistered, 3600, Now, 0.5, new DeliveryOptions()).DisableEndpoint!.Unbind);
        Assert.False(OutcomeTable.Apply(claimed, App, 1, NotForTopic, 3600, Now, 0.5, new DeliveryOptions()).DisableEndpoint!.Unbind);
    }
}
