using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace PushGateway.Apns.Internal;

/// <summary>What the client wants to know about the frames an HTTP/2 server sends.</summary>
internal interface IHttp2FrameListener
{
    /// <summary>A SETTINGS frame (not an ACK) ended; <paramref name="maxConcurrentStreams"/> is null when it did not carry one.</summary>
    void OnSettings(int? maxConcurrentStreams, bool isFirst);

    /// <summary>A GOAWAY frame arrived: the connection takes no new streams.</summary>
    void OnGoAway();
}

/// <summary>
/// Passes an HTTP/2 connection's plaintext through unchanged while reading the frame headers the server sends, to
/// learn its SETTINGS_MAX_CONCURRENT_STREAMS and see GOAWAY. <see cref="SocketsHttpHandler"/> honours the stream limit
/// but does not expose it, and the client needs it to admit no more requests than the server allows (APNs changes the
/// value at run time, down to 1 after a rejection) and to know when another connection is worth opening.
/// </summary>
internal sealed class Http2FrameObserverStream(Stream inner, IHttp2FrameListener listener) : Stream
{
    private const int FrameHeaderLength = 9;
    private const byte SettingsFrameType = 0x4;
    private const byte GoAwayFrameType = 0x7;
    private const byte AckFlag = 0x1;
    private const ushort MaxConcurrentStreamsSetting = 0x3;
    private const int SettingLength = 6;

    private readonly byte[] _header = new byte[FrameHeaderLength];
    private readonly byte[] _setting = new byte[SettingLength];
    private int _headerFill;
    private int _payloadRemaining;
    private bool _inSettingsPayload;
    private int _settingFill;
    private int? _settingsMaxStreams;
    private bool _seenSettings;

    public override bool CanRead => inner.CanRead;

    public override bool CanWrite => inner.CanWrite;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = inner.ReadAsync(buffer, cancellationToken);
        if (read.IsCompletedSuccessfully)
        {
            var n = read.Result;
            Observe(buffer.Span[..n]);
            return new ValueTask<int>(n);
        }

        return AwaitRead(read, buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        Observe(buffer[..n]);
        return n;
    }

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.WriteAsync(buffer, cancellationToken);

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override ValueTask DisposeAsync() => inner.DisposeAsync();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    // Most reads wait for the network: pool the state machine instead of allocating one per read.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> AwaitRead(ValueTask<int> read, Memory<byte> buffer)
    {
        var n = await read.ConfigureAwait(false);
        Observe(buffer.Span[..n]);
        return n;
    }

    /// <summary>Walks the frames in the bytes just read; only SETTINGS payloads are looked into.</summary>
    internal void Observe(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_payloadRemaining == 0 && !_inSettingsPayload)
            {
                var take = Math.Min(FrameHeaderLength - _headerFill, data.Length);
                data[..take].CopyTo(_header.AsSpan(_headerFill));
                _headerFill += take;
                data = data[take..];
                if (_headerFill < FrameHeaderLength)
                {
                    return;
                }

                _headerFill = 0;
                var length = (_header[0] << 16) | (_header[1] << 8) | _header[2];
                _payloadRemaining = length;
                var type = _header[3];
                var isSettings = type == SettingsFrameType && (_header[4] & AckFlag) == 0;
                _inSettingsPayload = length > 0 && isSettings;
                _settingFill = 0;
                _settingsMaxStreams = null;
                if (isSettings && length == 0)
                {
                    EndSettings();
                }
                else if (type == GoAwayFrameType)
                {
                    listener.OnGoAway();
                }

                continue;
            }

            var chunk = data[..Math.Min(_payloadRemaining, data.Length)];
            data = data[chunk.Length..];
            _payloadRemaining -= chunk.Length;
            if (_inSettingsPayload)
            {
                ObserveSettings(chunk);
                if (_payloadRemaining == 0)
                {
                    _inSettingsPayload = false;
                    EndSettings();
                }
            }
        }
    }

    private void ObserveSettings(ReadOnlySpan<byte> chunk)
    {
        while (!chunk.IsEmpty)
        {
            var take = Math.Min(SettingLength - _settingFill, chunk.Length);
            chunk[..take].CopyTo(_setting.AsSpan(_settingFill));
            _settingFill += take;
            chunk = chunk[take..];
            if (_settingFill < SettingLength)
            {
                return;
            }

            _settingFill = 0;
            if (BinaryPrimitives.ReadUInt16BigEndian(_setting) == MaxConcurrentStreamsSetting)
            {
                var value = BinaryPrimitives.ReadUInt32BigEndian(_setting.AsSpan(2));
                _settingsMaxStreams = (int)Math.Min(value, int.MaxValue);
            }
        }
    }

    private void EndSettings()
    {
        listener.OnSettings(_settingsMaxStreams, !_seenSettings);
        _seenSettings = true;
    }
}
