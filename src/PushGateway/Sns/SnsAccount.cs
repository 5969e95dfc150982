using System.Buffers.Binary;
using System.Security.Cryptography;

namespace PushGateway.Sns;

/// <summary>
/// A project's 12-digit account id for the ARNs of the SNS facade. Derived, not stored: the first 8 bytes of
/// SHA-256 over a fixed label and the project id, modulo 10^12. Stable for the life of the project, the same on every
/// replica, and nothing to migrate; two projects share one only by a 1-in-10^12 chance, and even then an ARN resolves
/// only inside the caller's own project.
/// </summary>
internal static class SnsAccount
{
    public static string For(Guid projectId)
    {
        var label = "PushGateway.SnsAccount.v1\0"u8;
        Span<byte> input = stackalloc byte[label.Length + 16];
        label.CopyTo(input);
        projectId.TryWriteBytes(input[label.Length..], bigEndian: true, out _);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        var value = BinaryPrimitives.ReadUInt64BigEndian(hash) % 1_000_000_000_000UL;
        return value.ToString("D12", System.Globalization.CultureInfo.InvariantCulture);
    }
}
