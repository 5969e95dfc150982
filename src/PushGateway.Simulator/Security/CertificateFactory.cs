using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PushGateway.Simulator.Security;

internal static class CertificateFactory
{
    private const string UidOid = "0.9.2342.19200300.100.1.1";

    /// <summary>
    /// The self-signed TLS server certificate: ECDSA P-256, SANs localhost + extra names + 127.0.0.1 + ::1, EKU
    /// serverAuth. Clients trust it as the single root of a custom trust store, so it is its own issuer.
    /// </summary>
    public static X509Certificate2 CreateServerCertificate(IEnumerable<string> hostNames, TimeProvider time)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=PushGateway Simulator", key, HashAlgorithmName.SHA256);

        var san = new SubjectAlternativeNameBuilder();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "localhost" };
        foreach (var name in hostNames)
        {
            if (!string.IsNullOrWhiteSpace(name))
            {
                names.Add(name.Trim());
            }
        }

        foreach (var name in names)
        {
            if (IPAddress.TryParse(name, out var ip))
            {
                san.AddIpAddress(ip);
            }
            else
            {
                san.AddDnsName(name);
            }
        }

        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));

        // Backdated a little so a client whose clock is slightly behind still accepts it.
        var now = time.GetUtcNow();
        using var ephemeral = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));

        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>
    /// An APNs-style provider client certificate: RSA 2048, one year, subject
    /// <c>CN=Apple Push Services: bundle, UID=bundle</c>, EKU clientAuth. Returned with its private key.
    /// </summary>
    public static X509Certificate2 CreateApnsClientCertificate(string bundleId, TimeProvider time)
    {
        using var key = RSA.Create(2048);
        var subject = new X500DistinguishedNameBuilder();
        subject.Add(UidOid, bundleId, UniversalTagNumber.UTF8String);
        subject.AddCommonName("Apple Push Services: " + bundleId);
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(
            new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));

        var now = time.GetUtcNow();
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(1));
    }
}
