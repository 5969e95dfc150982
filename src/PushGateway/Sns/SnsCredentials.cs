using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using PushGateway.Data;
using PushGateway.Hosting;

namespace PushGateway.Sns;

/// <summary>A verified caller of the SNS facade: the project its access key belongs to, and the secret to check the signature with.</summary>
internal sealed record SnsCaller(Guid ProjectId, string AccessKeyId, string Secret)
{
    public string AccountId { get; } = SnsAccount.For(ProjectId);
}

/// <summary>Minting and looking up SNS access key pairs; the secret is sealed with <see cref="SecretBox"/> under its row's id.</summary>
internal static class SnsCredentials
{
    public const string AccessKeyPrefix = "PGSN";
    private const string Base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    public static string SecretContext(Guid credentialId) => $"sns-credential:{credentialId}:secret";

    /// <summary>20 characters of A-Z and 2-7, starting with <see cref="AccessKeyPrefix"/> (AWS ids are 20 upper-case characters too).</summary>
    public static string NewAccessKeyId()
    {
        var bytes = RandomNumberGenerator.GetBytes(10);
        var chars = new char[16];
        ulong high = 0;
        for (var i = 0; i < 5; i++)
        {
            high = (high << 8) | bytes[i];
        }

        ulong low = 0;
        for (var i = 5; i < 10; i++)
        {
            low = (low << 8) | bytes[i];
        }

        for (var i = 7; i >= 0; i--)
        {
            chars[i] = Base32Alphabet[(int)(high & 31)];
            high >>= 5;
            chars[8 + i] = Base32Alphabet[(int)(low & 31)];
            low >>= 5;
        }

        return AccessKeyPrefix + new string(chars);
    }

    /// <summary>40 characters of base64, like an AWS secret access key.</summary>
    public static string NewSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(30));

    /// <summary>The caller for an active access key id, or null when it is unknown or revoked.</summary>
    public static async Task<SnsCaller?> FindAsync(PushGatewayDbContext db, SecretBox secrets, string accessKeyId, CancellationToken cancellationToken)
    {
        if (accessKeyId.Length is 0 or > 32)
        {
            return null;
        }

        var row = await db.SnsCredentials.AsNoTracking()
            .Where(c => c.AccessKeyId == accessKeyId && c.RevokedAt == null)
            .Select(c => new { c.Id, c.ProjectId, c.SecretCiphertext })
            .FirstOrDefaultAsync(cancellationToken);
        return row is null ? null : new SnsCaller(row.ProjectId, accessKeyId, secrets.OpenString(row.SecretCiphertext, SecretContext(row.Id)));
    }
}
