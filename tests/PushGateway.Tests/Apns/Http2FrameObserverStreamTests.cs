using PushGateway.Apns.Internal;

namespace PushGateway.Tests.Apns;

public sealed class Http2FrameObserverStreamTests
{
    [Fact]
    public void Observe_FramesSplitAtEveryBoundary_ReportsSettingsAndGoAway()
    {
        // SETTINGS{HEADER_TABLE_SIZE=4096, MAX_CONCURRENT_STREAMS=1000}, DATA(5 bytes, with bytes that look like a
        // SETTINGS header), SETTINGS ACK, SETTINGS{MAX_CONCURRENT_STREAMS=7}, PING, SETTINGS{INITIAL_WINDOW_SIZE},
        // empty SETTINGS, GOAWAY.
        byte[] wire =
        [
            0, 0, 12, 4, 0, 0, 0, 0, 0, 0, 1, 0, 0, 16, 0, 0, 3, 0, 0, 3, 232,
            0, 0, 5, 0, 1, 0, 0, 0, 1, 0, 0, 6, 4, 0,
            0, 0, 0, 4, 1, 0, 0, 0, 0,
            0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 7,
            0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,
            0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0,
            0, 0, 0, 4, 0, 0, 0, 0, 0,
            0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0,
        ];

        for (var split = 1; split <= wire.Length; split++)
        {
            var seen = new Recorder();
            var observer = new Http2FrameObserverStream(Stream.Null, seen);
            for (var offset = 0; offset < wire.Length; offset += split)
            {
                observer.Observe(wire.AsSpan(offset, Math.Min(split, wire.Length - offset)));
            }

            Assert.Equal(["settings 1000 first", "settings 7", "settings -", "settings -", "goaway"], seen.Events);
        }
    }

    [Fact]
    public async Task ReadAsync_ThroughTheWrapper_ReturnsTheBytesUnchanged()
    {
        byte[] wire = [0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 9, 42];
        var seen = new Recorder();
        await using var stream = new Http2FrameObserverStream(new MemoryStream(wire), seen);
        var buffer = new byte[64];

        var read = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken);

        Assert.Equal(wire, buffer[..read]);
        Assert.Equal(["settings 9 first"], seen.Events);
    }

    private sealed class Recorder : IHttp2FrameListener
    {
        public List<string> Events { get; } = [];

        public void OnSettings(int? maxConcurrentStreams, bool isFirst) =>
            Events.Add($"settings {maxConcurrentStreams?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}{(isFirst ? " first" : "")}");

        public void OnGoAway() => Events.Add("goaway");
    }
}
