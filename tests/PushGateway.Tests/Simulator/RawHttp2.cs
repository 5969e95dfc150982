using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace PushGateway.Tests.Simulator;

/// <summary>
/// A minimal HTTP/2 client that writes one request frame by frame, for what HttpClient cannot send
/// (a header field repeated on the wire). HPACK: literal fields without indexing, no Huffman.
/// </summary>
internal static class RawHttp2
{
    private const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, GoAway = 0x7;

    public static async Task<(int Status, string Body)> PostAsync(
        Uri baseUrl, string certificatePemPath, string path, IReadOnlyList<(string Name, string Value)> headers, string body,
        CancellationToken cancellationToken)
    {
        var root = X509Certificate2.CreateFromPem(File.ReadAllText(certificatePemPath));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(baseUrl.Host, baseUrl.Port, cancellationToken);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = baseUrl.Host,
            ApplicationProtocols = [SslApplicationProtocol.Http2],
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            RemoteCertificateValidationCallback = (_, certificate, _, errors) => TestClients.Trusts(root, certificate, errors),
        }, cancellationToken);

        var block = new List<byte>();
        AddField(block, ":method", "POST");
        AddField(block, ":scheme", "https");
        AddField(block, ":authority", $"{baseUrl.Host}:{baseUrl.Port}");
        AddField(block, ":path", path);
        foreach (var (name, value) in headers)
        {
            AddField(block, name, value);
        }

        var bodyBytes = Encoding.UTF8.GetBytes(body);
        AddField(block, "content-length", bodyBytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));

        await tls.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(), cancellationToken);
        await WriteFrameAsync(tls, Settings, 0, 0, [], cancellationToken);
        await WriteFrameAsync(tls, Headers, 0x4, 1, block.ToArray(), cancellationToken); // END_HEADERS
        await WriteFrameAsync(tls, Data, 0x1, 1, bodyBytes, cancellationToken);          // END_STREAM

        var status = -1;
        var responseBody = new MemoryStream();
        var header = new byte[9];
        while (true)
        {
            await tls.ReadExactlyAsync(header, cancellationToken);
            var length = (header[0] << 16) | (header[1] << 8) | header[2];
            var type = header[3];
            var flags = header[4];
            var stream = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & 0x7FFFFFFF;
            var payload = new byte[length];
            await tls.ReadExactlyAsync(payload, cancellationToken);

            if (type == Settings && (flags & 0x1) == 0)
            {
                await WriteFrameAsync(tls, Settings, 0x1, 0, [], cancellationToken);
            }
            else if (type == Headers && stream == 1)
            {
                status = DecodeStatus(payload);
            }
            else if (type == Data && stream == 1)
            {
                responseBody.Write(payload);
            }
            else if (type is RstStream or GoAway)
            {
                break;
            }

            if (stream == 1 && type is Headers or Data && (flags & 0x1) != 0)
            {
                break;
            }
        }

        return (status, Encoding.UTF8.GetString(responseBody.ToArray()));
    }

    private static async Task WriteFrameAsync(SslStream stream, byte type, byte flags, int streamId, byte[] payload, CancellationToken cancellationToken)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), streamId);
        payload.CopyTo(frame, 9);
        await stream.WriteAsync(frame, cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    /// <summary>Literal header field without indexing, new name (RFC 7541 6.2.2).</summary>
    private static void AddField(List<byte> block, string name, string value)
    {
        block.Add(0x00);
        AddString(block, name);
        AddString(block, value);
    }

    private static void AddString(List<byte> block, string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        AddInteger(block, bytes.Length, 7, 0x00);
        block.AddRange(bytes);
    }

    private static void AddInteger(List<byte> block, int value, int prefixBits, byte firstByteFlags)
    {
        var max = (1 << prefixBits) - 1;
        if (value < max)
        {
            block.Add((byte)(firstByteFlags | value));
            return;
        }

        block.Add((byte)(firstByteFlags | max));
        value -= max;
        while (value >= 128)
        {
            block.Add((byte)((value % 128) + 128));
            value /= 128;
        }

        block.Add((byte)value);
    }

    /// <summary>The :status of a response header block (static-table index or a plain literal; -1 if neither).</summary>
    private static int DecodeStatus(byte[] block)
    {
        var first = block[0];
        if ((first & 0x80) != 0)
        {
            return (first & 0x7F) switch { 8 => 200, 9 => 204, 10 => 206, 11 => 304, 12 => 400, 13 => 404, 14 => 500, _ => -1 };
        }

        // Literal with an indexed name (:status = static index 8), value not Huffman-coded.
        var valueStart = 1;
        var length = block[valueStart] & 0x7F;
        var huffman = (block[valueStart] & 0x80) != 0;
        return huffman ? -1 : int.Parse(Encoding.ASCII.GetString(block, valueStart + 1, length), System.Globalization.CultureInfo.InvariantCulture);
    }
}
