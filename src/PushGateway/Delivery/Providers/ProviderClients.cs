using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Npgsql;
using PushGateway.Apns;
using PushGateway.Applications;
using PushGateway.Data;
using PushGateway.Fcm;
using PushGateway.Hosting;

namespace PushGateway.Delivery;

/// <summary>
/// Provider clients per application, built from the decrypted credentials and rebuilt when the credentials version
/// changes (rotation, environment change). Applications sharing a .p8 key share its provider token.
/// </summary>
internal sealed class ProviderClients(WorkerDatabase database, SecretBox secrets, ProviderOptions providers, DeliveryOptions options, TimeProvider time, ILogger<ProviderClients> logger) : IAsyncDisposable
{
    private readonly NpgsqlDataSource dataSource = database.DataSource;
    private readonly ConcurrentDictionary<Guid, ApplicationState> _applications = new();
    private readonly ApnsProviderTokenCache _tokens = new(time);

    /// <summary>How long an application's state (enabled, credentials version) is trusted before it is read again.</summary>
    private static readonly TimeSpan StateLifetime = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<Guid, long> _checkedAt = new();

    /// <summary>Current state of the given applications (missing ones were deleted), read again at most every second.</summary>
    public async Task<IReadOnlyDictionary<Guid, ApplicationState>> GetAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        var result = new Dictionary<Guid, ApplicationState>();
        var toCheck = new List<Guid>();
        foreach (var id in ids)
        {
            if (_applications.TryGetValue(id, out var known) && _checkedAt.TryGetValue(id, out var at) && time.GetElapsedTime(at) < StateLifetime)
            {
                result[id] = known;
            }
            else
            {
                toCheck.Add(id);
            }
        }

        if (toCheck.Count == 0)
        {
            return result;
        }

        var stale = new List<Guid>();
        await using (var command = dataSource.CreateCommand("SELECT id, enabled, credentials_version FROM applications WHERE id = ANY(@ids)"))
        {
            command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", toCheck.ToArray()));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetGuid(0);
                var enabled = reader.GetBoolean(1);
                var version = reader.GetInt32(2);
                _checkedAt[id] = time.GetTimestamp();
                if (_applications.TryGetValue(id, out var known) && known.CredentialsVersion == version)
                {
                    result[id] = known.Enabled == enabled ? known : known with { Enabled = enabled };
                    _applications[id] = result[id];
                }
                else
                {
                    stale.Add(id);
                }
            }
        }

        foreach (var id in stale)
        {
            if (await LoadAsync(id, cancellationToken) is { } state)
            {
                if (_applications.TryGetValue(id, out var old))
                {
                    // Sends of earlier batches may still be using the old client: let them finish first.
                    _ = Task.Delay(options.RequestTimeout * 3, time, CancellationToken.None)
                        .ContinueWith(_ => old.Sender.DisposeAsync().AsTask(), TaskScheduler.Default);
                }

                _applications[id] = state;
                result[id] = state;
            }
        }

        return result;
    }

    private async Task<ApplicationState?> LoadAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT platform, environment, enabled, credentials_version, credentials_type, credentials_ciphertext
            FROM applications WHERE id = @id
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid>("id", id));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var platform = reader.GetString(0);
        var environment = reader.IsDBNull(1) ? null : reader.GetString(1);
        var enabled = reader.GetBoolean(2);
        var version = reader.GetInt32(3);
        var type = reader.GetString(4);
        var ciphertext = reader.GetFieldValue<byte[]>(5);
        IPushSender sender;
        JsonObject secret;
        try
        {
            secret = JsonNode.Parse(secrets.OpenString(ciphertext, ApplicationsEndpoints.SecretContext(id)))!.AsObject();
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            // Not this application's fault: the stored credentials were encrypted under a key this process does not
            // have (a wrong or missing PushGateway__EncryptionKey). Never disable the application for it; its
            // deliveries wait and are retried, and the next state check (every second) tries again.
            logger.CredentialsUnusable(id, ex.GetType().Name);
            return new ApplicationState(id, platform, enabled, version, new UndecryptableSender(platform));
        }

        try
        {
            sender = platform == Platforms.Apns
                ? CreateApns(environment!, type, secret)
                : CreateFcm(secret);
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or ArgumentException or FormatException or InvalidOperationException or System.Text.Json.JsonException or NullReferenceException)
        {
            // The decrypted credentials cannot be used (a certificate that no longer loads…): the application's own
            // configuration is wrong, so it is disabled until it is fixed, as for a credential failure.
            logger.CredentialsUnusable(id, ex.GetType().Name);
            sender = new BrokenSender(platform, $"{platform}:credentials:unusable ({ex.GetType().Name})");
        }

        return new ApplicationState(id, platform, enabled, version, sender);
    }

    /// <summary>
    /// A one-off sender for a token-auth APNs application's other environment (the misconfiguration guard's probe),
    /// with the other environment's name; null for anything else. The caller disposes it.
    /// </summary>
    public async Task<(IPushSender Sender, string Environment)?> CreateProbeSenderAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT environment, credentials_type, credentials_ciphertext FROM applications WHERE id = @id AND platform = 'apns'
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid>("id", id));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken) || reader.GetString(1) != CredentialTypes.Token)
        {
            return null;
        }

        var other = reader.GetString(0) == ApnsEnvironments.Sandbox ? ApnsEnvironments.Production : ApnsEnvironments.Sandbox;
        var secret = JsonNode.Parse(secrets.OpenString(reader.GetFieldValue<byte[]>(2), ApplicationsEndpoints.SecretContext(id)))!.AsObject();
        return (CreateApns(other, CredentialTypes.Token, secret), other);
    }

    private IPushSender CreateApns(string environment, string type, JsonObject secret)
    {
        var clientOptions = new ApnsClientOptions
        {
            BaseUrl = environment == ApnsEnvironments.Sandbox ? providers.ApnsSandboxUrl : providers.ApnsProductionUrl,
            TrustedCertificateSource = providers.TrustedCertificate is { } trusted ? trusted.Current : null,
            RequestTimeout = options.RequestTimeout,
            MaxConcurrentRequests = options.PerApplicationConcurrency,
            MaxConnections = options.ApnsConnections,
            TimeProvider = time,
        };
        var bundleId = secret["bundleId"]!.GetValue<string>();
        ApnsClient client;
        if (type == CredentialTypes.Token)
        {
            client = new ApnsClient(clientOptions, new ApnsTokenCredentials(
                secret["teamId"]!.GetValue<string>(), secret["keyId"]!.GetValue<string>(), secret["privateKey"]!.GetValue<string>()), _tokens);
        }
        else
        {
            var certificate = X509CertificateLoader.LoadPkcs12(
                Convert.FromBase64String(secret["certificate"]!.GetValue<string>()), secret["password"]?.GetValue<string>(),
                X509KeyStorageFlags.EphemeralKeySet);
            client = new ApnsClient(clientOptions, new ApnsCertificateCredentials(certificate));
        }

        return new ApnsSender(client, bundleId, environment);
    }

    private FcmSender CreateFcm(JsonObject secret) => new(new FcmClient(new FcmClientOptions
    {
        BaseUrl = providers.FcmBaseUrl,
        TokenUrl = providers.FcmTokenUrl,
        TrustedCertificateSource = providers.TrustedCertificate is { } trusted ? trusted.Current : null,
        RequestTimeout = options.RequestTimeout,
        MaxConcurrentRequests = options.PerApplicationConcurrency,
        TimeProvider = time,
    }, secret["serviceAccountJson"]!.GetValue<string>()));

    public async ValueTask DisposeAsync()
    {
        foreach (var state in _applications.Values)
        {
            await state.Sender.DisposeAsync();
        }

        _applications.Clear();
    }

    /// <summary>Credentials this process cannot decrypt: retried later, the application left as it is.</summary>
    private sealed class UndecryptableSender(string provider) : IPushSender
    {
        public string Provider => provider;

        public Task<DeliveryOutcome> SendAsync(MessageInfo message, string token, DateTimeOffset now, CancellationToken cancellationToken) =>
            Task.FromResult<DeliveryOutcome>(new DeliveryOutcome.Retry(null, "internal: credentials cannot be decrypted (check PushGateway__EncryptionKey)", TimeSpan.FromMinutes(1)));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class BrokenSender(string provider, string reason) : IPushSender
    {
        public string Provider => provider;

        public Task<DeliveryOutcome> SendAsync(MessageInfo message, string token, DateTimeOffset now, CancellationToken cancellationToken) =>
            Task.FromResult<DeliveryOutcome>(new DeliveryOutcome.CredentialsFailed(null, reason, reason));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
