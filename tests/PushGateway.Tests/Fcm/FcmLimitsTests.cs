using System.Text;
using System.Text.Json.Nodes;
using PushGateway.Fcm;

namespace PushGateway.Tests.Fcm;

public sealed class FcmLimitsTests
{
    [Fact]
    public void Measure_CountsTheCompactUtf8JsonOfTheMessage()
    {
        var message = new JsonObject { ["token"] = "abc", ["data"] = new JsonObject { ["k"] = "é" } };

        // {"token":"abc","data":{"k":"é"}} is 32 characters, and é takes two bytes in UTF-8.
        Assert.Equal(33, FcmLimits.Measure(message));
    }

    [Fact]
    public void Measure_TypedAndRawForms_Agree()
    {
        var typed = new FcmMessage
        {
            Token = "abc",
            Notification = new FcmNotification { Title = "Grüße", Body = "<b>" },
            Data = new Dictionary<string, string> { ["x"] = "y" },
        };

        Assert.Equal(FcmLimits.Measure(typed), FcmLimits.Measure(typed.ToJsonObject()));
        Assert.Equal(Encoding.UTF8.GetByteCount("""{"token":"abc","notification":{"title":"Grüße","body":"<b>"},"data":{"x":"y"}}"""), FcmLimits.Measure(typed));
    }

    [Fact]
    public void Measure_ParsedJsonWithEscapes_CountsTheUnescapedForm()
    {
        var parsed = JsonNode.Parse("""{"token":"t","data":{"k":"\u00e9"}}""")!.AsObject();

        Assert.Equal(Encoding.UTF8.GetByteCount("""{"token":"t","data":{"k":"é"}}"""), FcmLimits.Measure(parsed));
    }

    [Theory]
    [InlineData("token", FcmLimits.MaxMessageBytes)]
    [InlineData("topic", FcmLimits.MaxTopicMessageBytes)]
    [InlineData("condition", FcmLimits.MaxTopicMessageBytes)]
    public void MaxBytesFor_DependsOnTheTarget(string target, int expected)
    {
        Assert.Equal(expected, FcmLimits.MaxBytesFor(new JsonObject { [target] = "x" }));
        Assert.Equal(expected, FcmLimits.MaxBytesFor(JsonNode.Parse($$"""{"{{target}}":"x"}""")!.AsObject()));
    }

    [Fact]
    public void MaxBytesFor_TypedMessage_DependsOnTheTarget()
    {
        Assert.Equal(4096, FcmLimits.MaxBytesFor(new FcmMessage { Token = "t" }));
        Assert.Equal(2048, FcmLimits.MaxBytesFor(new FcmMessage { Topic = "t" }));
        Assert.Equal(2048, FcmLimits.MaxBytesFor(new FcmMessage { Condition = "'t' in topics" }));
    }
}
