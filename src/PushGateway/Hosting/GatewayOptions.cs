namespace PushGateway.Hosting;

/// <summary>The <c>PushGateway</c> configuration section.</summary>
internal sealed class GatewayOptions
{
    public const string SectionName = "PushGateway";

    /// <summary>Bearer key of the administrator (projects and their API keys).</summary>
    public string? AdminKey { get; set; }

    /// <summary>Base64 of the 32-byte AES key that encrypts credentials and webhook secrets at rest.</summary>
    public string? EncryptionKey { get; set; }

    /// <summary>
    /// Comma-separated base64 keys that were the encryption key before: they only decrypt, while the background
    /// re-encryption seals everything again under <see cref="EncryptionKey"/>. Remove them once that has run.
    /// </summary>
    public string? PreviousEncryptionKeys { get; set; }

    /// <summary>Apply pending migrations when the gateway starts. Local mode always does; compose runs the migrator.</summary>
    public bool MigrateOnStart { get; set; }

    /// <summary>
    /// How long a replica trusts a project API key it looked up before asking the database again (0 turns the cache
    /// off). Revocations reach every replica at once through PostgreSQL notifications; this bounds a missed one.
    /// </summary>
    public int ApiKeyCacheSeconds { get; set; } = 60;

    /// <summary>Local mode's folder (PostgreSQL cluster, generated keys).</summary>
    public string DataDirectory { get; set; } = ".pushgateway";
}
