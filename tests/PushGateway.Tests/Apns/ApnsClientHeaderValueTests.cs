using System.Text.Json.Nodes;
using PushGateway.Apns;

namespace PushGateway.Tests.Apns;

/// <summary>
/// Header values that cannot be sent (CR/LF, control characters, non-ASCII topics) are refused by the client for
/// that one request, before anything reaches the connection: the connection and the requests in flight on it live on.
/// </summary>
/// <remarks>Each test starts its own simulator: they read the connection counters.</remarks>
public sealed class ApnsClientHeaderValueTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, string?> BadHeaders => new()
    {
        // topic, collapse id
        { "com.example.app", "a\r\nb" },
        { "com.example.app", "a\nx-injected: 1" },
        { "com.example.app", "nul\0" },
        { "com.example.app", " leading" },
        { "com.example.app", "tab\tinside" },
        { "com.exämple.app", null },
        { "com.example.app\r\n", null },
        { "com.example.app ", null },
        { "com.example\u0007app", null },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public async Task SendAsync_UnsendableHeaderValue_IsRejectedLocally_AndTheConnectionSurvives(string topic, string? collapseId)
    {
        await using var simulator = await ApnsSimulator.StartAsync(cancellationToken: Ct);
        await simulator.PutSettingsAsync(new JsonObject { ["latencyMs"] = 300 }, Ct);
        await using var client = new ApnsClient(simulator.Options(), await simulator.AddKeyAsync(cancellationToken: Ct));
        var badToken = ApnsTestData.NewDeviceToken();

        // One request in flight on the connection while the bad one is handled.
        var inFlight = client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);
        await Task.Delay(50, Ct);
        var bad = await client.SendAsync(new ApnsRequest
        {
            DeviceToken = badToken,
            Topic = topic,
            CollapseId = collapseId,
            Payload = ApnsTestData.Payload,
        }, Ct);
        var first = await inFlight;
        var after = await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);

        Assert.True(bad.IsLocalRejection, bad.ToString());
        Assert.Equal(
            (400, ApnsHeaderValues.InvalidHeaderValueReason, ApnsReason.Unknown, ApnsResponseClass.RequestRejected, false),
            (bad.StatusCode, bad.ReasonText, bad.Reason, bad.Class, bad.IsTransportFailure));
        Assert.True(first.IsAccepted, first.ToString());
        Assert.True(after.IsAccepted, after.ToString());
        Assert.Equal(1, client.ConnectionsCreated);
        var counters = await simulator.GetApnsCountersAsync(Ct);
        Assert.Equal(1, counters["connectionsOpened"]!.GetValue<int>());
        Assert.Equal(2, counters["accepted"]!.GetValue<int>());
        Assert.Empty(await simulator.GetReceivedAsync(badToken, Ct));
    }

    [Fact]
    public async Task SendAsync_NonAsciiCollapseIdWithinLimit_IsStillSent()
    {
        await using var simulator = await ApnsSimulator.StartAsync(cancellationToken: Ct);
        await using var client = new ApnsClient(simulator.Options(), await simulator.AddKeyAsync(cancellationToken: Ct));

        var response = await client.SendAsync(new ApnsRequest
        {
            DeviceToken = ApnsTestData.NewDeviceToken(),
            Topic = "com.example.app",
            CollapseId = "résumé 🎉",
            Payload = ApnsTestData.Payload,
        }, Ct);

        Assert.True(response.IsAccepted, response.ToString());
    }

    [Theory]
    [InlineData("com.example.app", true)]
    [InlineData("", true)]
    [InlineData("com.example.app.voip", true)]
    [InlineData("a b", true)]
    [InlineData("~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./", true)]
    [InlineData("a\rb", false)]
    [InlineData("a\nb", false)]
    [InlineData("a\tb", false)]
    [InlineData("a\u007Fb", false)]
    [InlineData("é", false)]
    [InlineData(" a", false)]
    [InlineData("a ", false)]
    public void IsValid_PrintableAsciiWithoutOuterSpaces(string value, bool expected) =>
        Assert.Equal(expected, ApnsHeaderValues.IsValid(value));

    [Theory]
    [InlineData("score-update", true)]
    [InlineData("résumé 🎉", true)]
    [InlineData("a\r\nb", false)]
    [InlineData("a\u0085b", false)]
    [InlineData("a\u007Fb", false)]
    [InlineData("a\u00A0", false)]
    public void IsValidCollapseId_AnyTextButControlsBrokenUnicodeAndOuterWhitespace(string value, bool expected) =>
        Assert.Equal(expected, ApnsHeaderValues.IsValidCollapseId(value));

    [Fact]
    public void IsValidCollapseId_UnpairedSurrogate_IsInvalid()
    {
        // Built at run time: test data serialization would replace a lone surrogate with U+FFFD.
        Assert.False(ApnsHeaderValues.IsValidCollapseId("lone " + (char)0xD800 + " high"));
        Assert.False(ApnsHeaderValues.IsValidCollapseId("lone " + (char)0xDC00 + " low"));
        Assert.False(ApnsHeaderValues.IsValidCollapseId("end " + (char)0xD800));
        Assert.True(ApnsHeaderValues.IsValidCollapseId("pair " + (char)0xD83C + (char)0xDF89));
        Assert.False(ApnsHeaderValues.IsValid("pair " + (char)0xD83C + (char)0xDF89));
    }
}
