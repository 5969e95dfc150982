using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace PushGateway.Providers;

/// <summary>
/// TLS trust for provider connections: the system roots, plus one extra PEM certificate
/// (<c>Providers__TrustedCertificatePath</c>) so a simulator with a self-signed certificate can be reached
/// without switching validation off. Linked into the APNs and FCM client assemblies.
/// </summary>
internal static class ProviderTrust
{
    /// <summary>Loads the certificate(s) of a PEM file; the first one is the extra trust anchor.</summary>
    public static X509Certificate2 LoadPem(string path) => X509Certificate2.CreateFromPem(File.ReadAllText(path));

    /// <summary>
    /// A validation callback that accepts what the system accepts, and otherwise a chain that ends at the extra
    /// root: <paramref name="currentRoot"/>'s answer when given (asked at each handshake the system roots refuse, so a
    /// replaced certificate file is trusted without a restart), else <paramref name="extraRoot"/>. A host name
    /// mismatch is never accepted.
    /// </summary>
    public static RemoteCertificateValidationCallback? CreateCallback(X509Certificate2? extraRoot, Func<X509Certificate2?>? currentRoot = null)
    {
        if (extraRoot is null && currentRoot is null)
        {
            return null;
        }

        return (_, certificate, _, errors) =>
        {
            if (errors == SslPolicyErrors.None)
            {
                return true;
            }

            if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0 || certificate is null)
            {
                return false;
            }

            var root = currentRoot is null ? extraRoot : currentRoot();
            if (root is null)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(root);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            using var leaf = new X509Certificate2(certificate);
            return chain.Build(leaf);
        };
    }
}
