using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PushGateway.Hosting;

/// <summary>
/// The PEM file of <c>Providers__TrustedCertificatePath</c>, read again when it changes (length or write time), so
/// a simulator that made a new certificate is trusted without restarting the gateway. Asked only at TLS handshakes
/// the system roots refuse, so the file is looked at once per new connection, not per request. A file that cannot
/// be read at that moment (being replaced) keeps the last good certificate.
/// </summary>
internal sealed class TrustedCertificateFile
{
    private readonly Lock _gate = new();
    private X509Certificate2 _current;
    private (long Length, DateTime Written) _stamp;

    private TrustedCertificateFile(string path, X509Certificate2 certificate, (long, DateTime) stamp)
    {
        Path = path;
        _current = certificate;
        _stamp = stamp;
    }

    public string Path { get; }

    /// <summary>Loads the file now; a missing or unreadable file stops the start (<see cref="GatewayStartupException"/>).</summary>
    public static TrustedCertificateFile Open(string path)
    {
        try
        {
            var stamp = Stamp(path);
            return new TrustedCertificateFile(path, Load(path), stamp);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new GatewayStartupException($"Providers__TrustedCertificatePath ({path}) is not a readable PEM certificate: {ex.Message}");
        }
    }

    /// <summary>The certificate in the file now (reloaded if the file changed since the last look).</summary>
    public X509Certificate2 Current()
    {
        lock (_gate)
        {
            try
            {
                var stamp = Stamp(Path);
                if (stamp != _stamp)
                {
                    _current = Load(Path);
                    _stamp = stamp;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
            {
                // Mid-replacement or briefly unreadable: the last good certificate until the next handshake.
            }

            return _current;
        }
    }

    private static (long, DateTime) Stamp(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException("The file does not exist.", path);
        }

        return (info.Length, info.LastWriteTimeUtc);
    }

    private static X509Certificate2 Load(string path) => X509Certificate2.CreateFromPem(File.ReadAllText(path));
}
