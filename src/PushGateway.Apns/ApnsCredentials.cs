using System.Security.Cryptography.X509Certificates;

namespace PushGateway.Apns;

/// <summary>
/// Token-based authentication: the team id, the key id and the contents of the <c>.p8</c> file (PKCS#8 PEM of a P-256
/// key). <see href="https://developer.apple.com/documentation/usernotifications/establishing-a-token-based-connection-to-apns"/>
/// </summary>
/// <param name="TeamId">The 10-character Team ID (the JWT <c>iss</c>).</param>
/// <param name="KeyId">The 10-character Key ID (the JWT <c>kid</c>).</param>
/// <param name="PrivateKeyPem">The <c>.p8</c> contents (<c>-----BEGIN PRIVATE KEY-----</c>). Never logged.</param>
public sealed record ApnsTokenCredentials(string TeamId, string KeyId, string PrivateKeyPem)
{
    /// <summary>Keeps the private key out of logs and exception messages.</summary>
    public override string ToString() => $"ApnsTokenCredentials {{ TeamId = {TeamId}, KeyId = {KeyId} }}";
}

/// <summary>
/// Certificate-based authentication: the "Apple Push Notification service SSL" client certificate with its private
/// key (typically loaded from PKCS#12 with <see cref="X509CertificateLoader.LoadPkcs12"/>). The certificate is tied to
/// one app (bundle id, plus its .voip and .complication topics).
/// <see href="https://developer.apple.com/documentation/usernotifications/establishing-a-certificate-based-connection-to-apns"/>
/// </summary>
/// <param name="Certificate">The client certificate; must have its private key.</param>
public sealed record ApnsCertificateCredentials(X509Certificate2 Certificate);
