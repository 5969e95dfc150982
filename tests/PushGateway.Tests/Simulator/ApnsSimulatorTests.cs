using System.Net;
using PushGateway.Simulator;

namespace PushGateway.Tests.Simulator;

public sealed class ApnsSimulatorTests
{
    [Fact]
    public async Task Send_WithValidJwt_Returns200WithApnsId()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);

        var reply = await t.SendAsync(cancellationToken: ct);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Null(reply.Reason);
        Assert.True(Guid.TryParse(reply.ApnsId, out _));
        Assert.Null(reply.UniqueId);
    }
}
