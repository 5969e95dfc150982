using System.Net;
using System.Net.Sockets;

namespace PushGateway.Events;

/// <summary>
/// The webhook client's connect step (<see cref="SocketsHttpHandler.ConnectCallback"/>): resolves the host itself and
/// connects only to addresses <see cref="WebhookAddressPolicy"/> allows. Checking here, after resolution and for every
/// connection, is what DNS rebinding (a name that resolves to a public address when the URL is set and to an internal
/// one later) cannot get around; redirects are not followed at all.
/// </summary>
internal sealed class WebhookConnector(bool allowPrivateNetworks)
{
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var host = endpoint.Host.Trim('[', ']');
        var addresses = IPAddress.TryParse(host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        var allowed = addresses.Where(a => WebhookAddressPolicy.IsAllowed(a, allowPrivateNetworks)).ToArray();
        if (allowed.Length == 0)
        {
            throw new WebhookAddressRefusedException();
        }

        SocketException? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last!;
    }
}

/// <summary>Every address the webhook's host resolved to is refused by <see cref="WebhookAddressPolicy"/>; nothing was connected.</summary>
internal sealed class WebhookAddressRefusedException() : IOException(WebhookAddressPolicy.AddressNotAllowed);
