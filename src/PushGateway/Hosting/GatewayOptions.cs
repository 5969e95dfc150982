namespace PushGateway.Hosting;

/// <summary>The <c>PushGateway</c> configuration section.</summary>
internal sealed class GatewayOptions
{
    public const string SectionName = "PushGateway";

    /// <summary>Bearer key of the administrator (projects and their API keys).</summary>
    public string? AdminKey { get; set; }

    /// <summary>Base64 of the 32-byte AES key that encrypts credentials and webhook secrets at rest.</summary>
    public string? EncryptionKey { get; set; }

    /// <summary>Apply pending migrations when the gateway starts. Local mode always does; compose runs the migrator.</summary>
    public bool MigrateOnStart { get; set; }

    /// <summary>Local mode's folder (PostgreSQL cluster, generated keys).</summary>
    public string DataDirectory { get; set; } = ".pushgateway";
}
