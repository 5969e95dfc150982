using PushGateway.Apns.Internal;

namespace PushGateway.Tests.Apns;

public sealed class Http2SettingsObserverStreamTests
{
    [Fact]
    public void Observe_FramesSplitAtEveryBoundary_ReportsEachMaxConcurrentStreamsValue()
    {
        // SETTINGS{HEADER_TABLE_SIZE=4096, MAX_CONCURRENT_STREAMS=1000}, DATA(5 bytes, with bytes that look like a
        // SETTINGS header), SETTINGS ACK, SETTINGS{MAX_CONCURRENT_STREAMS=7}, PING.
        byte[] wire =
        [
            0, 0, 12, 4, 0, 0, 0, 0, 0, 0, 1, 0, 0, 16, 0, 0, 3, 0, 0, 3, 232,
            0, 0, 5, 0, 1, 0, 0, 0, 1, 0, 0, 6, 4, 0,
            0, 0, 0, 4, 1, 0, 0, 0, 0,
            0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 7,
            0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,
        ];

        for (var split = 1; split <= wire.Length; split++)
        {
            var seen = new List<int>();
            var observer = new Http2SettingsObserverStream(Stream.Null, seen.Add);
            for (var offset = 0; offset < wire.Length; offset += split)
            {
                observer.Observe(wire.AsSpan(offset, Math.Min(split, wire.Length - offset)));
            }

            Assert.Equal([1000, 7], seen);
        }
    }

    [Fact]
    public async Task ReadAsync_ThroughTheWrapper_ReturnsTheBytesUnchanged()
    {
        byte[] wire = [0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 9, 42];
        var seen = new List<int>();
        await using var stream = new Http2SettingsObserverStream(new MemoryStream(wire), seen.Add);
        var buffer = new byte[64];

        var read = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken);

        Assert.Equal(wire, buffer[..read]);
        Assert.Equal([9], seen);
    }
}
