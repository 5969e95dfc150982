using System.Security.Cryptography;

namespace PushGateway.Hosting;

/// <summary>
/// No configured encryption key opens a stored secret: the operator changed or dropped a key (see
/// <c>PushGateway__PreviousEncryptionKeys</c>). This is a configuration fault of the whole gateway, not a property of
/// one application, so callers must not disable the application over it. It derives from
/// <see cref="CryptographicException"/> so code that already catches that keeps compiling and catching.
/// </summary>
internal sealed class SecretUndecryptableException(string message) : CryptographicException(message);
