using System.Net;
using System.Net.Sockets;

namespace PushGateway.Events;

/// <summary>
/// Which addresses a webhook may connect to. A webhook URL is a tenant's text, and the gateway POSTs to it from inside
/// the operator's network: without a policy a tenant could reach the cloud metadata service, the database or an admin
/// page. Link-local (169.254/16 with the metadata address, fe80::/10), unspecified, multicast, broadcast and reserved
/// addresses are always refused; loopback, private (10/8, 172.16/12, 192.168/16, 100.64/10) and unique-local
/// (fc00::/7) ones unless <see cref="EventsOptions.AllowPrivateNetworks"/>. The real guard is at connect time, on the
/// resolved address (<see cref="WebhookConnector"/>); <see cref="CheckUrl"/> only refuses early what is visible in
/// the URL itself.
/// </summary>
internal static class WebhookAddressPolicy
{
    /// <summary>The fixed <c>lastError</c> of an attempt whose host resolved only to refused addresses.</summary>
    public const string AddressNotAllowed = "address not allowed";

    /// <summary>True when a webhook may connect to <paramref name="address"/>.</summary>
    public static bool IsAllowed(IPAddress address, bool allowPrivateNetworks) => Classify(address) switch
    {
        AddressClass.Public => true,
        AddressClass.Private => allowPrivateNetworks,
        _ => false,
    };

    /// <summary>
    /// The set-time check of a webhook URL: an error text, or null. Refuses user info (it would be stored and shown in
    /// plain text), literal addresses the policy refuses, and names that mean this machine (<c>localhost</c>,
    /// <c>*.localhost</c>) unless private networks are allowed. Other names are not resolved here: what they resolve to
    /// when the gateway connects is what counts.
    /// </summary>
    public static string? CheckUrl(Uri url, bool allowPrivateNetworks)
    {
        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            return "Must not contain user info (user:password@); authenticate with the signature (events.secret).";
        }

        // Uri normalises the odd IPv4 spellings (2130706433, 0x7f.1, 127.1) to dotted quads, and brackets IPv6.
        var host = url.IdnHost.Trim('[', ']').TrimEnd('.');
        if (IPAddress.TryParse(host, out var address))
        {
            return IsAllowed(address, allowPrivateNetworks) ? null : Refused(address, allowPrivateNetworks);
        }

        if (!allowPrivateNetworks && (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)))
        {
            return "Must not point at this machine (localhost) unless Events__AllowPrivateNetworks=true.";
        }

        return null;
    }

    private static string Refused(IPAddress address, bool allowPrivateNetworks) => Classify(address) == AddressClass.Private && !allowPrivateNetworks
        ? "Must not point at a loopback, private or unique-local address unless Events__AllowPrivateNetworks=true."
        : "Must not point at a link-local (cloud metadata), unspecified, multicast, broadcast or reserved address.";

    internal enum AddressClass
    {
        Public,

        /// <summary>Loopback, RFC 1918, CGNAT, unique-local, site-local: allowed with AllowPrivateNetworks.</summary>
        Private,

        /// <summary>Link-local, unspecified, multicast, broadcast, reserved: never.</summary>
        Refused,
    }

    internal static AddressClass Classify(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return Classify(address.MapToIPv4());
        }

        var b = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return b[0] switch
            {
                0 => AddressClass.Refused,                                    // 0.0.0.0/8 "this network"
                10 or 127 => AddressClass.Private,                           // RFC 1918, loopback
                100 when b[1] is >= 64 and <= 127 => AddressClass.Private,    // 100.64/10 CGNAT
                169 when b[1] == 254 => AddressClass.Refused,                 // link-local, metadata 169.254.169.254
                172 when b[1] is >= 16 and <= 31 => AddressClass.Private,     // RFC 1918
                192 when b[1] == 168 => AddressClass.Private,                 // RFC 1918
                >= 224 => AddressClass.Refused,                               // multicast, reserved 240/4, broadcast
                _ => AddressClass.Public,
            };
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return AddressClass.Refused;
        }

        if (address.Equals(IPAddress.IPv6Loopback))
        {
            return AddressClass.Private;
        }

        if (address.Equals(IPAddress.IPv6None) || address.IsIPv6LinkLocal || address.IsIPv6Multicast)
        {
            return AddressClass.Refused;
        }

        // ::/96 (IPv4-compatible, deprecated): an IPv4 address in disguise, never a real destination.
        if (b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0)
        {
            return AddressClass.Refused;
        }

        // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address that the translator would reach.
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0)
        {
            return Classify(new IPAddress(b.AsSpan(12, 4)));
        }

        if (b[0] == 0x20 && b[1] == 0x02)
        {
            return Classify(new IPAddress(b.AsSpan(2, 4)));
        }

        if ((b[0] & 0xfe) == 0xfc || address.IsIPv6SiteLocal)
        {
            return AddressClass.Private;                                      // fc00::/7 unique-local, fec0::/10
        }

        return AddressClass.Public;
    }
}
