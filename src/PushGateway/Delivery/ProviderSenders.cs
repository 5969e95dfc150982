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

/// <summary>A message's payloads as the workers need them (cached per message while its deliveries drain).</summary>
internal sealed record MessageInfo(
    Guid Id,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    int TtlSeconds,
    byte[] ApnsPayload,
    ApnsPushType ApnsPushType,
    int ApnsPriority,
    string? ApnsTopic,
    string? CollapseKey,
    JsonObject FcmMessage);

/// <summary>One application's provider connection.</summary>
internal interface IPushSender : IAsyncDisposable
{
    string Provider { get; }

    Task<DeliveryOutcome> SendAsync(MessageInfo message, string token, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>The state of an application as the workers see it.</summary>
internal sealed record ApplicationState(Guid Id, string Platform, bool Enabled, int CredentialsVersion, IPushSender Sender);

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
        try
        {
            var secret = JsonNode.Parse(secrets.OpenString(ciphertext, ApplicationsEndpoints.SecretContext(id)))!.AsObject();
            sender = platform == Platforms.Apns
                ? CreateApns(environment!, type, secret)
                : CreateFcm(secret);
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or ArgumentException or FormatException or InvalidOperationException or System.Text.Json.JsonException)
        {
            // The stored credentials cannot be used (wrong encryption key, certificate that no longer loads…).
            logger.CredentialsUnusable(id, ex.GetType().Name);
            sender = new BrokenSender(platform, $"{platform}:credentials:unusable ({ex.GetType().Name})");
        }

        return new ApplicationState(id, platform, enabled, version, sender);
    }

    private IPushSender CreateApns(string environment, string type, JsonObject secret)
    {
        var clientOptions = new ApnsClientOptions
        {
            BaseUrl = environment == ApnsEnvironments.Sandbox ? providers.ApnsSandboxUrl : providers.ApnsProductionUrl,
            TrustedCertificate = providers.TrustedCertificate,
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
        TrustedCertificate = providers.TrustedCertificate,
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

    private sealed class BrokenSender(string provider, string reason) : IPushSender
    {
        public string Provider => provider;

        public Task<DeliveryOutcome> SendAsync(MessageInfo message, string token, DateTimeOffset now, CancellationToken cancellationToken) =>
            Task.FromResult<DeliveryOutcome>(new DeliveryOutcome.CredentialsFailed(null, reason, reason));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>APNs: the message's prepared payload to one device token, with Apple's answer classified.</summary>
internal sealed class ApnsSender(ApnsClient client, string bundleId, string environment) : IPushSender
{
    /// <summary>apns-topic per push type (bundle id + suffix), built once rather than per notification.</summary>
    private readonly string[] _topics = Enum.GetValues<ApnsPushType>().Select(t => bundleId + ApnsPushTypes.TopicSuffix(t)).ToArray();

    public string Provider => Platforms.Apns;

    public async Task<DeliveryOutcome> SendAsync(MessageInfo message, string token, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var response = await client.SendAsync(new ApnsRequest
        {
            DeviceToken = token,
            Topic = message.ApnsTopic ?? _topics[(int)message.ApnsPushType],
            PushType = message.ApnsPushType,
            Priority = message.ApnsPriority,
            // apns-expiration is absolute, so it already is "the TTL minus the time spent queued"; 0 = now or never.
            Expiration = message.TtlSeconds == 0 ? DateTimeOffset.UnixEpoch : message.ExpiresAt,
            CollapseId = message.CollapseKey,
            ApnsId = Guid.NewGuid(),
            Payload = message.ApnsPayload,
        }, cancellationToken);

        var status = response.StatusCode == 0 ? (int?)null : response.StatusCode;
        var reason = response.ReasonText ?? response.TransportError ?? $"HTTP {response.StatusCode}";
        var label = $"apns:{response.StatusCode}:{reason}";
        return response.Class switch
        {
            ApnsResponseClass.Accepted => new DeliveryOutcome.Delivered(200, response.ApnsId?.ToString(), response.ApnsUniqueId),
            ApnsResponseClass.TokenUnregistered => new DeliveryOutcome.TokenDead(response.StatusCode, reason, label, response.Timestamp),
            // A token of the other environment looks exactly like a malformed one: say which environment refused it.
            ApnsResponseClass.TokenInvalid => new DeliveryOutcome.TokenDead(response.StatusCode, reason, $"{label} (refused by the {environment} environment)", null),
            ApnsResponseClass.TokenNotForTopic => new DeliveryOutcome.TokenDead(response.StatusCode, reason, label, null),
            ApnsResponseClass.RequestRejected => new DeliveryOutcome.Rejected(status, reason),
            ApnsResponseClass.ProviderTokenExpired => new DeliveryOutcome.Retry(status, reason, null, Immediately: true),
            ApnsResponseClass.CredentialsRejected => new DeliveryOutcome.CredentialsFailed(status, reason, label),
            _ => new DeliveryOutcome.Retry(status, response.IsTransportFailure ? "transport: " + reason : reason, response.RetryAfter),
        };
    }

    public ValueTask DisposeAsync() => client.DisposeAsync();
}

/// <summary>FCM: the prepared v1 message with the token and the remaining TTL.</summary>
internal sealed class FcmSender(FcmClient client) : IPushSender
{
    public string Provider => Platforms.Fcm;

    public async Task<DeliveryOutcome> SendAsync(MessageInfo message, string token, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var body = (JsonObject)message.FcmMessage.DeepClone();
        body["token"] = token;
        var remaining = message.TtlSeconds == 0 ? 0 : Math.Max(0, (long)Math.Ceiling((message.ExpiresAt - now).TotalSeconds));
        var android = body["android"] as JsonObject ?? [];
        body["android"] = android;
        if (!android.ContainsKey("ttl"))
        {
            android["ttl"] = $"{remaining}s";
        }

        var apns = body["apns"] as JsonObject ?? [];
        var headers = apns["headers"] as JsonObject ?? [];
        if (!headers.ContainsKey("apns-expiration"))
        {
            headers["apns-expiration"] = (message.TtlSeconds == 0 ? 0 : message.ExpiresAt.ToUnixTimeSeconds()).ToString(System.Globalization.CultureInfo.InvariantCulture);
            apns["headers"] = headers;
            body["apns"] = apns;
        }

        var response = await client.SendAsync(body, validateOnly: false, cancellationToken);
        var status = response.StatusCode == 0 ? (int?)null : response.StatusCode;
        var code = response.ErrorCodeText ?? response.ErrorStatus ?? response.TokenEndpointError ?? response.TransportError ?? $"HTTP {response.StatusCode}";
        var label = $"fcm:{response.StatusCode}:{code}";
        return response.Class switch
        {
            FcmResponseClass.Delivered => new DeliveryOutcome.Delivered(200, response.MessageName),
            FcmResponseClass.TokenInvalid => new DeliveryOutcome.TokenDead(response.StatusCode, code,
                response.ErrorCode == FcmErrorCode.InvalidArgument ? label + " (invalid registration token)" : label, null),
            FcmResponseClass.RequestRejected => new DeliveryOutcome.Rejected(status, Describe(code, response.ErrorMessage)),
            FcmResponseClass.CredentialsRejected => new DeliveryOutcome.CredentialsFailed(status, Describe(code, response.ErrorMessage), label),
            _ => new DeliveryOutcome.Retry(status, response.IsTransportFailure ? "transport: " + code : code, response.RetryAfter),
        };
    }

    private static string Describe(string code, string? message) =>
        message is null ? code : $"{code}: {(message.Length > 300 ? message[..300] : message)}";

    public ValueTask DisposeAsync()
    {
        client.Dispose();
        return ValueTask.CompletedTask;
    }
}
