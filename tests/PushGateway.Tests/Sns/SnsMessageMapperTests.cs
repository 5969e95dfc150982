using System.Text.Json.Nodes;
using PushGateway.Messages;
using PushGateway.Sns;

namespace PushGateway.Tests.Sns;

/// <summary>How an SNS Publish becomes the REST API's message request (payload keys, legacy GCM, reserved attributes).</summary>
public sealed class SnsMessageMapperTests
{
    private static readonly MessageTarget Endpoint = new() { EndpointId = Guid.NewGuid() };
    private static readonly MessageTarget Topic = new() { Topic = "news" };

    private static MessageAttribute Attr(string name, string value) => new(name, "String", value, null);

    [Fact]
    public void DirectPublish_TakesThePlatformsKey_ThenDefault()
    {
        var json = """{"default":"d","APNS":"{\"aps\":{\"alert\":\"prod\"}}","APNS_SANDBOX":"{\"aps\":{\"alert\":\"sandbox\"}}"}""";
        var sandbox = SnsMessageMapper.Build(Endpoint, SnsArn.ApnsSandbox, json, json: true, []);
        Assert.Equal("sandbox", sandbox.Apns!.Payload!["aps"]!["alert"]!.GetValue<string>());
        var gcm = SnsMessageMapper.Build(Endpoint, SnsArn.Gcm, json, json: true, []);
        Assert.Equal("d", gcm.Fcm!.Message!["notification"]!["body"]!.GetValue<string>());
        Assert.Null(gcm.Apns!.Payload);
    }

    [Fact]
    public void TopicPublish_NeedsDefault_AndBuildsBothPayloads()
    {
        var error = Assert.Throws<SnsException>(() => SnsMessageMapper.Build(Topic, null, """{"APNS":"{}"}""", json: true, []));
        Assert.Equal("Invalid parameter: Message Structure - No default entry in JSON message body", error.Message);
        var both = SnsMessageMapper.Build(Topic, null, """{"default":"hi","GCM":"{\"data\":{\"k\":1}}"}""", json: true, []);
        Assert.Equal("hi", both.Apns!.Payload!["aps"]!["alert"]!.GetValue<string>());
        Assert.Equal("1", both.Fcm!.Message!["data"]!["k"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("[1,2]")]
    public void AStructureThatIsNotAnObject_FailsToParse(string message)
    {
        var error = Assert.Throws<SnsException>(() => SnsMessageMapper.Build(Endpoint, SnsArn.Apns, message, json: true, []));
        Assert.Equal("Invalid parameter: Message Structure - JSON message body failed to parse", error.Message);
    }

    [Fact]
    public void LegacyGcm_IsConvertedToV1()
    {
        var gcm = new JsonObject
        {
            ["notification"] = new JsonObject { ["title"] = "T", ["body"] = "B", ["sound"] = "s", ["tag"] = "t1" },
            ["data"] = new JsonObject { ["n"] = 5, ["s"] = "x" },
            ["time_to_live"] = 90,
            ["collapse_key"] = "c",
            ["priority"] = "normal",
        }.ToJsonString();
        var request = SnsMessageMapper.Build(Endpoint, SnsArn.Gcm, new JsonObject { ["GCM"] = gcm }.ToJsonString(), json: true, []);
        var message = request.Fcm!.Message!;
        Assert.Equal("T", message["notification"]!["title"]!.GetValue<string>());
        Assert.Null(message["notification"]!["sound"]);
        Assert.Equal("s", message["android"]!["notification"]!["sound"]!.GetValue<string>());
        Assert.Equal("5", message["data"]!["n"]!.GetValue<string>());
        Assert.Equal("c", message["android"]!["collapse_key"]!.GetValue<string>());
        Assert.Equal("normal", message["android"]!["priority"]!.GetValue<string>());
        Assert.Equal(90, request.TtlSeconds);
    }

    [Fact]
    public void ReservedAttributes_SetTheHeaders_AndThePlatformsTtl()
    {
        var attributes = new[]
        {
            Attr(SnsMessageMapper.PushType, "background"), Attr(SnsMessageMapper.Priority, "5"), Attr(SnsMessageMapper.CollapseId, "c"),
            Attr(SnsMessageMapper.Topic, "com.example.app.voip"), Attr(SnsMessageMapper.ApnsTtl, "60"), Attr(SnsMessageMapper.FcmTtl, "30"),
            Attr("user.attribute", "kept out"),
        };
        var apns = SnsMessageMapper.Build(Endpoint, SnsArn.Apns, "hi", json: false, attributes);
        Assert.Equal(("background", "normal", "c", "com.example.app.voip", 60), (apns.Apns!.PushType, apns.Priority, apns.CollapseKey, apns.Apns.Topic, apns.TtlSeconds));
        Assert.Equal(30, SnsMessageMapper.Build(Endpoint, SnsArn.Gcm, "hi", json: false, attributes).TtlSeconds);
        Assert.Equal(30, SnsMessageMapper.Build(Topic, null, "hi", json: false, attributes).TtlSeconds);
    }

    [Fact]
    public void AttributeErrors_AreSnssOwn()
    {
        var noType = Assert.Throws<SnsException>(() => SnsMessageMapper.Build(Endpoint, SnsArn.Apns, "hi", false, [new MessageAttribute("attr1", null, "v", null)]));
        Assert.Equal(("ValidationError", "1 validation error detected: Value null at 'messageAttributes.attr1.member.dataType' failed to satisfy constraint: Member must not be null"),
            (noType.Code, noType.Message));
        var wrongField = Assert.Throws<SnsException>(() => SnsMessageMapper.Build(Endpoint, SnsArn.Apns, "hi", false, [new MessageAttribute("attr1", "String", null, "AQI=")]));
        Assert.Equal(("ParameterValueInvalid", "The message attribute 'attr1' with type 'String' must use field 'String'."), (wrongField.Code, wrongField.Message));
        var badType = Assert.Throws<SnsException>(() => SnsMessageMapper.Build(Endpoint, SnsArn.Apns, "hi", false, [new MessageAttribute("attr1", "Text", "v", null)]));
        Assert.Contains("supported type prefixes is Binary, Number, and String", badType.Message);
        var badPriority = Assert.Throws<SnsException>(() => SnsMessageMapper.Build(Endpoint, SnsArn.Apns, "hi", false, [Attr(SnsMessageMapper.Priority, "7")]));
        Assert.Equal("InvalidParameter", badPriority.Code);
    }
}
