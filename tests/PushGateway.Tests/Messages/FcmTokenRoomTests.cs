using System.Text.Json.Nodes;
using PushGateway.Apns;
using PushGateway.Fcm;
using PushGateway.Messages;

namespace PushGateway.Tests.Messages;

/// <summary>
/// The FCM token room from one measure is the longest real-looking token the message fits with, measured with that
/// token in the message as sent, for any payload size; the size check agrees at the same border and reports the size.
/// </summary>
public sealed class FcmTokenRoomTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(3350)]
    [InlineData(4000)]
    [InlineData(4100)]
    public void Room_IsTheLongestTokenTheMessageFitsWith(int blobLength)
    {
        var message = new PreparedMessage("endpoint", new JsonObject(), 60, [], ApnsPushType.Alert, 10, null, null,
            new JsonObject { ["data"] = new JsonObject { ["blob"] = new string('y', blobLength), ["emoji"] = "🎉é" } });

        var room = message.FcmTokenRoom();

        if (room >= 1)
        {
            Assert.True(MeasureWith(message, room) <= FcmLimits.MaxMessageBytes);
            Assert.Null(message.CheckSize(hasApns: false, room));
        }

        var over = Math.Max(room + 1, 1);
        var size = MeasureWith(message, over);
        Assert.True(size > FcmLimits.MaxMessageBytes);
        Assert.Equal($"The FCM message would be {size} bytes; the limit is {FcmLimits.MaxMessageBytes}.", message.CheckSize(hasApns: false, over));
    }

    /// <summary>The message as sent to a token of this length, made of the characters real FCM tokens have.</summary>
    private static int MeasureWith(PreparedMessage message, int tokenLength)
    {
        const string alphabet = "dQw4w9WgXcQ:APA91b-_";
        var token = string.Concat(Enumerable.Range(0, tokenLength).Select(i => alphabet[i % alphabet.Length]));
        var sent = (JsonObject)message.FcmMessage.DeepClone();
        sent["token"] = token;
        return FcmLimits.Measure(sent);
    }
}
