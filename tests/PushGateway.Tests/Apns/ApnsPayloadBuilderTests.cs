using System.Text;
using System.Text.Json.Nodes;
using PushGateway.Apns;

namespace PushGateway.Tests.Apns;

public sealed class ApnsPayloadBuilderTests
{
    [Fact]
    public void Build_AllFields_WritesGoldenJsonWithHyphenatedKeys()
    {
        var builder = new ApnsPayloadBuilder
        {
            AlertTitle = "Title",
            AlertSubtitle = "Sub",
            AlertBody = "Body",
            Badge = 3,
            Sound = "default",
            Category = "MESSAGE",
            ThreadId = "thread-1",
            ContentAvailable = true,
            MutableContent = true,
            InterruptionLevel = ApnsInterruptionLevel.TimeSensitive,
            RelevanceScore = 0.5,
            TargetContentId = "window-1",
        };
        builder.SetCustomKey("orderId", 42).SetCustomKey("meta", new JsonObject { ["a"] = "b" });

        var json = Encoding.UTF8.GetString(builder.Build());

        Assert.Equal(
            """{"aps":{"alert":{"title":"Title","subtitle":"Sub","body":"Body"},"badge":3,"sound":"default","category":"MESSAGE","thread-id":"thread-1","content-available":1,"mutable-content":1,"interruption-level":"time-sensitive","relevance-score":0.5,"target-content-id":"window-1"},"orderId":42,"meta":{"a":"b"}}""",
            json);
    }

    [Fact]
    public void Build_SilentPush_WritesOnlyContentAvailable()
    {
        var json = Encoding.UTF8.GetString(new ApnsPayloadBuilder { ContentAvailable = true }.Build(ApnsPushType.Background));

        Assert.Equal("""{"aps":{"content-available":1}}""", json);
    }

    [Fact]
    public void Build_BadgeZero_WritesZeroToClearTheBadge()
    {
        var json = Encoding.UTF8.GetString(new ApnsPayloadBuilder { Badge = 0 }.Build());

        Assert.Equal("""{"aps":{"badge":0}}""", json);
    }

    [Fact]
    public void Build_NonAsciiText_IsWrittenAsUtf8NotEscaped()
    {
        var bytes = new ApnsPayloadBuilder { AlertBody = "Café 🎉 <b> \"q\" \\ \n" }.Build();

        Assert.Equal("""{"aps":{"alert":{"body":"Café 🎉 <b> \"q\" \\ \n"}}}""", Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public void SetApsKey_LiveActivityKeys_AreWrittenInsideAps()
    {
        var builder = new ApnsPayloadBuilder();
        builder.SetApsKey("event", "update").SetApsKey("timestamp", 1700000000).SetApsKey("content-state", new JsonObject { ["score"] = 2 });

        var json = Encoding.UTF8.GetString(builder.Build(ApnsPushType.LiveActivity));

        Assert.Equal("""{"aps":{"event":"update","timestamp":1700000000,"content-state":{"score":2}}}""", json);
    }

    [Fact]
    public void SetCustomKey_Aps_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => new ApnsPayloadBuilder().SetCustomKey("aps", 1));
    }

    [Fact]
    public void BuildObject_Twice_ReturnsIndependentObjects()
    {
        var builder = new ApnsPayloadBuilder { AlertBody = "x" };
        builder.SetCustomKey("k", new JsonObject { ["v"] = 1 });

        var first = builder.BuildObject();
        first["k"]!["v"] = 2;
        first["extra"] = true;

        Assert.Equal("""{"aps":{"alert":{"body":"x"}},"k":{"v":1}}""", builder.BuildObject().ToJsonString());
    }

    [Theory]
    [InlineData(ApnsPushType.Alert, 4096)]
    [InlineData(ApnsPushType.Background, 4096)]
    [InlineData(ApnsPushType.LiveActivity, 4096)]
    [InlineData(ApnsPushType.Voip, 5120)]
    public void Build_PayloadExactlyAtTheLimit_SucceedsAndOneByteMoreThrows(ApnsPushType pushType, int limit)
    {
        Assert.Equal(limit, ApnsPayloadLimits.MaxBytes(pushType));
        const int overhead = 29; // {"aps":{"alert":{"body":""}}}
        var atLimit = new ApnsPayloadBuilder { AlertBody = new string('a', limit - overhead) };

        Assert.Equal(limit, atLimit.Build(pushType).Length);

        atLimit.AlertBody += "a";
        var e = Assert.Throws<ApnsPayloadTooLargeException>(() => atLimit.Build(pushType));
        Assert.Equal(limit + 1, e.Size);
        Assert.Equal(limit, e.MaxBytes);
    }
}
