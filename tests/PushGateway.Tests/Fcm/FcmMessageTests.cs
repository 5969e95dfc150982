using System.Text;
using System.Text.Json.Nodes;
using PushGateway.Fcm;

namespace PushGateway.Tests.Fcm;

public sealed class FcmMessageTests
{
    private static string Wire(FcmMessage message) => Encoding.UTF8.GetString(FcmJson.SerializeMessage(message));

    [Fact]
    public void Serialize_TokenWithNotificationAndData_MatchesGolden()
    {
        var message = new FcmMessage
        {
            Token = "tok_123",
            Notification = new FcmNotification { Title = "Hi", Body = "There" },
            Data = new Dictionary<string, string> { ["orderId"] = "42", ["Mixed_Case"] = "v" },
        };

        Assert.Equal(
            """{"token":"tok_123","notification":{"title":"Hi","body":"There"},"data":{"orderId":"42","Mixed_Case":"v"}}""",
            Wire(message));
    }

    [Fact]
    public void Serialize_FullModel_MatchesGolden()
    {
        var message = new FcmMessage
        {
            Topic = "/topics/news",
            Notification = new FcmNotification { Title = "T", Body = "B", Image = "https://example.com/i.png" },
            Data = new Dictionary<string, string> { ["k"] = "v" },
            Android = new FcmAndroidConfig
            {
                CollapseKey = "scores",
                Priority = FcmAndroidPriority.High,
                Ttl = TimeSpan.FromSeconds(3.5),
                RestrictedPackageName = "com.example.app",
                Data = new Dictionary<string, string> { ["a"] = "1" },
                Notification = new FcmAndroidNotification
                {
                    Title = "AT",
                    Icon = "ic",
                    Color = "#ff0000",
                    Sound = "default",
                    Tag = "t",
                    ClickAction = "OPEN",
                    BodyLocKey = "bk",
                    BodyLocArgs = ["x", "y"],
                    ChannelId = "general",
                    Sticky = true,
                    EventTime = new DateTimeOffset(2025, 1, 2, 4, 5, 6, TimeSpan.FromHours(1)),
                    NotificationPriority = FcmAndroidNotificationPriority.High,
                    VibrateTimings = [TimeSpan.Zero, TimeSpan.FromMilliseconds(250)],
                    Visibility = FcmAndroidVisibility.Public,
                    NotificationCount = 3,
                    LightSettings = new FcmAndroidLightSettings
                    {
                        Color = new FcmColor { Red = 1, Green = 0.5f, Blue = 0 },
                        LightOnDuration = TimeSpan.FromSeconds(1),
                        LightOffDuration = TimeSpan.FromMilliseconds(1500),
                    },
                    Proxy = FcmAndroidProxy.IfPriorityLowered,
                },
                FcmOptions = new FcmAndroidFcmOptions { AnalyticsLabel = "android" },
                DirectBootOk = true,
            },
            Apns = new FcmApnsConfig
            {
                Headers = new Dictionary<string, string> { ["apns-priority"] = "10", ["apns-push-type"] = "alert" },
                Payload = new JsonObject { ["aps"] = new JsonObject { ["badge"] = 1, ["sound"] = "default" }, ["custom"] = "c" },
                FcmOptions = new FcmApnsFcmOptions { AnalyticsLabel = "ios", Image = "https://example.com/a.png" },
            },
            Webpush = new FcmWebpushConfig
            {
                Headers = new Dictionary<string, string> { ["TTL"] = "60", ["Urgency"] = "high" },
                Data = new Dictionary<string, string> { ["w"] = "1" },
                Notification = new JsonObject { ["title"] = "WT", ["requireInteraction"] = true },
                FcmOptions = new FcmWebpushFcmOptions { Link = "https://example.com/", AnalyticsLabel = "web" },
            },
            FcmOptions = new FcmMessageOptions { AnalyticsLabel = "all" },
        };

        var expected = """
            {"topic":"news","notification":{"title":"T","body":"B","image":"https://example.com/i.png"},"data":{"k":"v"},
            "android":{"collapse_key":"scores","priority":"high","ttl":"3.5s","restricted_package_name":"com.example.app","data":{"a":"1"},
            "notification":{"title":"AT","icon":"ic","color":"#ff0000","sound":"default","tag":"t","click_action":"OPEN","body_loc_key":"bk","body_loc_args":["x","y"],
            "channel_id":"general","sticky":true,"event_time":"2025-01-02T03:05:06Z","notification_priority":"PRIORITY_HIGH","vibrate_timings":["0s","0.25s"],
            "visibility":"PUBLIC","notification_count":3,"light_settings":{"color":{"red":1,"green":0.5,"blue":0},"light_on_duration":"1s","light_off_duration":"1.5s"},
            "proxy":"IF_PRIORITY_LOWERED"},"fcm_options":{"analytics_label":"android"},"direct_boot_ok":true},
            "apns":{"headers":{"apns-priority":"10","apns-push-type":"alert"},"payload":{"aps":{"badge":1,"sound":"default"},"custom":"c"},"fcm_options":{"analytics_label":"ios","image":"https://example.com/a.png"}},
            "webpush":{"headers":{"TTL":"60","Urgency":"high"},"data":{"w":"1"},"notification":{"title":"WT","requireInteraction":true},"fcm_options":{"link":"https://example.com/","analytics_label":"web"}},
            "fcm_options":{"analytics_label":"all"}}
            """.ReplaceLineEndings("");
        Assert.Equal(expected, Wire(message));
    }

    [Theory]
    [InlineData(3600.0, "3600s")]
    [InlineData(0.0, "0s")]
    [InlineData(3.5, "3.5s")]
    [InlineData(0.0000001, "0.0000001s")]
    [InlineData(2419200.0, "2419200s")]
    public void Serialize_AndroidTtl_IsAProtobufDuration(double seconds, string expected)
    {
        var message = new FcmMessage { Token = "t", Android = new FcmAndroidConfig { Ttl = TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond)) } };

        Assert.Equal($$$"""{"token":"t","android":{"ttl":"{{{expected}}}"}}""", Wire(message));
    }

    [Fact]
    public void Serialize_NegativeTtl_Throws()
    {
        var message = new FcmMessage { Token = "t", Android = new FcmAndroidConfig { Ttl = TimeSpan.FromSeconds(-1) } };

        Assert.Throws<ArgumentOutOfRangeException>(() => Wire(message));
    }

    [Fact]
    public void Serialize_NonAsciiAndHtmlCharacters_AreNotEscaped()
    {
        var message = new FcmMessage { Token = "t", Notification = new FcmNotification { Title = "Café <b>&</b> 🎉", Body = "say \"hi\"\n" } };

        Assert.Equal("""{"token":"t","notification":{"title":"Café <b>&</b> 🎉","body":"say \"hi\"\n"}}""", Wire(message));
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("ctl \u0001 \u001f del \u007f")]
    [InlineData("quote \" backslash \\ slash / tab \t cr \r lf \n bs \b ff \f")]
    [InlineData("line sep \u2028 para sep \u2029")]
    [InlineData("日本語 👍🏽 ZWJ 👨‍👩‍👧")]
    public void Serialize_TrickyText_IsValidJsonThatRoundTrips(string text)
    {
        var message = new FcmMessage { Token = "t", Data = new Dictionary<string, string> { [text] = text } };

        var bytes = FcmJson.SerializeMessage(message);
        var parsed = JsonNode.Parse(bytes)!;

        Assert.Equal(text, (string?)parsed["data"]![text]);
    }

    [Fact]
    public void Serialize_LoneSurrogate_StillGivesValidJson()
    {
        var message = new FcmMessage { Token = "t", Data = new Dictionary<string, string> { ["k"] = "a\ud800b" } };

        var parsed = JsonNode.Parse(FcmJson.SerializeMessage(message))!;

        Assert.StartsWith("a", (string?)parsed["data"]!["k"]);
    }

    [Fact]
    public void ToJsonObject_AllowsRawOverridesAndRoundTrips()
    {
        var message = new FcmMessage
        {
            Condition = "'a' in topics",
            Apns = new FcmApnsConfig { Payload = new JsonObject { ["aps"] = new JsonObject { ["content-available"] = 1 } } },
        };

        var json = message.ToJsonObject();
        json["apns"]!["headers"] = new JsonObject { ["apns-priority"] = "5" };

        Assert.Equal("'a' in topics", (string?)json["condition"]);
        Assert.Equal(
            """{"condition":"'a' in topics","apns":{"payload":{"aps":{"content-available":1}},"headers":{"apns-priority":"5"}}}""",
            Encoding.UTF8.GetString(FcmJson.SerializeMessage(json)));
    }

    [Fact]
    public void Topic_WithoutPrefix_IsKept()
    {
        Assert.Equal("news", new FcmMessage { Topic = "news" }.Topic);
        Assert.Equal("news", new FcmMessage { Topic = "/topics/news" }.Topic);
    }

    [Fact]
    public void BuildSendBody_WrapsTheMessageAndValidateOnly()
    {
        var message = """{"token":"t"}"""u8.ToArray();

        Assert.Equal("""{"message":{"token":"t"}}""", Encoding.UTF8.GetString(FcmJson.BuildSendBody(message, validateOnly: false)));
        Assert.Equal("""{"message":{"token":"t"},"validate_only":true}""", Encoding.UTF8.GetString(FcmJson.BuildSendBody(message, validateOnly: true)));
    }
}
