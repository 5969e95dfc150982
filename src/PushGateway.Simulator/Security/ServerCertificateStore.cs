using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PushGateway.Simulator.Security;

/// <summary>
/// Keeps the simulator's server certificate across restarts: the PEM (public part, what clients trust) at the
/// configured path and its private key beside it (<c>.key</c>, mode 600). A kept certificate is reused while it is
/// valid for at least another day and covers the requested names; otherwise a new one replaces both files.
/// Files are replaced by rename, so a reader never sees half a certificate.
/// </summary>
internal static class ServerCertificateStore
{
    private static readonly TimeSpan MinimumRemaining = TimeSpan.FromDays(1);

    public static string KeyPath(string certificatePath) => Path.ChangeExtension(certificatePath, ".key");

    public static X509Certificate2 LoadOrCreate(string certificatePath, IReadOnlyCollection<string> hostNames, TimeProvider time)
    {
        if (TryLoad(certificatePath, hostNames, time) is { } kept)
        {
            return kept;
        }

        var certificate = CertificateFactory.CreateServerCertificate(hostNames, time);
        using (var key = certificate.GetECDsaPrivateKey()!)
        {
            WriteAtomically(KeyPath(certificatePath), key.ExportPkcs8PrivateKeyPem() + "\n", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        WriteAtomically(certificatePath, certificate.ExportCertificatePem() + "\n", null);
        return certificate;
    }

    private static X509Certificate2? TryLoad(string certificatePath, IReadOnlyCollection<string> hostNames, TimeProvider time)
    {
        var keyPath = KeyPath(certificatePath);
        if (!File.Exists(certificatePath) || !File.Exists(keyPath))
        {
            return null;
        }

        try
        {
            using var withKey = X509Certificate2.CreateFromPem(File.ReadAllText(certificatePath), File.ReadAllText(keyPath));
            var now = time.GetUtcNow();
            if (withKey.NotBefore.ToUniversalTime() > now.UtcDateTime || withKey.NotAfter.ToUniversalTime() - now.UtcDateTime < MinimumRemaining
                || !Covers(withKey, hostNames))
            {
                return null;
            }

            // Round-trip through PKCS#12 so the private key is usable by SslStream, as for a new certificate.
            return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    private static bool Covers(X509Certificate2 certificate, IEnumerable<string> hostNames)
    {
        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        if (san is null)
        {
            return false;
        }

        var dns = san.EnumerateDnsNames().ToHashSet(StringComparer.OrdinalIgnoreCase);
        var ips = san.EnumerateIPAddresses().ToHashSet();
        return hostNames.Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => n.Trim())
            .All(n => IPAddress.TryParse(n, out var ip) ? ips.Contains(ip) : dns.Contains(n));
    }

    private static void WriteAtomically(string path, string text, UnixFileMode? mode)
    {
        var temporary = path + ".tmp-" + Guid.NewGuid().ToString("N");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (mode is { } unixMode && !OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = unixMode;
        }

        using (var writer = new StreamWriter(temporary, System.Text.Encoding.ASCII, options))
        {
            writer.Write(text);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
