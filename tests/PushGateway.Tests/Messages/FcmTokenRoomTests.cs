using System.Text.Json.Nodes;
using PushGateway.Apns;
using PushGateway.Messages;

namespace PushGateway.Tests.Messages;

/// <summary>The FCM token room from one measure agrees with the size check at its border, for any payload size.</summary>
public sealed class FcmTokenRoomTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(3350)]
    [InlineData(4000)]
    [InlineData(4100)]
    public void Room_IsTheLongestTokenTheSizeCheckAccepts(int blobLength)
    {
        var message = new PreparedMessage("endpoint", new JsonObject(), 60, [], ApnsPushType.Alert, 10, null, null,
            new JsonObject { ["data"] = new JsonObject { ["blob"] = new string('y', blobLength), ["emoji"] = "🎉é" } });

        var room = message.FcmTokenRoom();

        if (room >= 1)
        {
            Assert.Null(message.CheckSize(hasApns: false, room));
        }

        Assert.NotNull(message.CheckSize(hasApns: false, Math.Max(room + 1, 1)));
    }
}
