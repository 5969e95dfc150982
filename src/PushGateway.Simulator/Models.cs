using System.Text.Json;
using System.Text.Json.Serialization;

namespace PushGateway.Simulator;

/// <summary>Which APNs environment a key, certificate or device token belongs to.</summary>
[JsonConverter(typeof(ApnsEnvironmentJsonConverter))]
public enum ApnsEnvironment
{
    /// <summary>Both environments (keys and certificates only).</summary>
    Both,

    /// <summary><c>api.push.apple.com</c>.</summary>
    Production,

    /// <summary><c>api.sandbox.push.apple.com</c>.</summary>
    Sandbox,
}

/// <summary>Runtime settings (<c>GET/PUT /control/settings</c>).</summary>
public sealed record SimulatorSettings
{
    public int LatencyMs { get; init; }
    public int LatencyJitterMs { get; init; }

    /// <summary>Share (0..1) of requests answered APNs 503 ServiceUnavailable / FCM 503 UNAVAILABLE at random.</summary>
    public double FailureRate { get; init; }

    /// <summary>0 = off; after K requests on one APNs connection the server sends GOAWAY.</summary>
    public int GoAwayEveryStreams { get; init; }

    /// <summary>Applies to connections opened after the change.</summary>
    public int MaxConcurrentStreams { get; init; } = 1000;

    public bool RecordRequests { get; init; } = true;
    public int ReceivedCapacity { get; init; } = 10_000;

    /// <summary><c>BadEnvironmentKeyInToken</c> (default) or <c>BadEnvironmentKeyIdInToken</c>.</summary>
    public string BadEnvironmentKeySpelling { get; init; } = ApnsReasons.BadEnvironmentKeyInToken;

    public int FcmAccessTokenLifetimeSeconds { get; init; } = 3599;

    /// <summary>Extension: minimum time between two JWT changes on one APNs connection (Apple: 20 minutes); 0 = rule off.</summary>
    public int TokenUpdateMinIntervalSeconds { get; init; } = 1200;
}

/// <summary>A partial settings update: null members stay unchanged.</summary>
public sealed record SimulatorSettingsUpdate
{
    public int? LatencyMs { get; init; }
    public int? LatencyJitterMs { get; init; }
    public double? FailureRate { get; init; }
    public int? GoAwayEveryStreams { get; init; }
    public int? MaxConcurrentStreams { get; init; }
    public bool? RecordRequests { get; init; }
    public int? ReceivedCapacity { get; init; }
    public string? BadEnvironmentKeySpelling { get; init; }
    public int? FcmAccessTokenLifetimeSeconds { get; init; }
    public int? TokenUpdateMinIntervalSeconds { get; init; }
}

/// <summary><c>POST /control/apns/keys</c>.</summary>
public sealed record ApnsKeyRequest
{
    public required string TeamId { get; init; }

    /// <summary>Null = a random 10-character key id.</summary>
    public string? KeyId { get; init; }

    /// <summary>Null = the simulator generates a P-256 key and returns its private part.</summary>
    public string? PublicKeyPem { get; init; }

    /// <summary>Null = any topic.</summary>
    public IReadOnlyList<string>? Topics { get; init; }

    public ApnsEnvironment? Environment { get; init; }
}

/// <param name="PrivateKeyPem">PKCS#8 PEM (what a .p8 file holds) when the simulator generated the key.</param>
public sealed record ApnsKeyResult(string TeamId, string KeyId, string? PrivateKeyPem);

/// <summary><c>POST /control/apns/certificates</c>.</summary>
public sealed record ApnsCertificateRequest
{
    public required string BundleId { get; init; }
    public ApnsEnvironment? Environment { get; init; }

    /// <summary>Null = the simulator generates a client certificate and returns it as PKCS#12.</summary>
    public string? CertificatePem { get; init; }
}

public sealed record ApnsCertificateResult(string Thumbprint, string? Pkcs12Base64, string? Password, DateTimeOffset NotAfter);

/// <summary><c>POST /control/fcm/service-accounts</c>.</summary>
public sealed record FcmServiceAccountRequest
{
    public required string ProjectId { get; init; }
    public string? ClientEmail { get; init; }

    /// <summary>Null = the simulator generates an RSA 2048 key and returns a complete service-account JSON.</summary>
    public string? PublicKeyPem { get; init; }
}

public sealed record FcmServiceAccountResult(string ProjectId, string ClientEmail, string? ServiceAccountJson);

/// <summary>How one device token behaves (<c>PUT /control/tokens/{token}</c>).</summary>
public sealed record TokenBehavior
{
    /// <summary>APNs: the token exists only in this environment; the other one answers 400 BadDeviceToken.</summary>
    public ApnsEnvironment? Environment { get; init; }

    /// <summary>APNs: the token belongs to this topic; another topic answers 400 DeviceTokenNotForTopic.</summary>
    public string? Topic { get; init; }

    /// <summary>One of <see cref="TokenPresets"/>.</summary>
    public string? Preset { get; init; }

    public ApnsAnswer? Apns { get; init; }
    public FcmAnswer? Fcm { get; init; }

    /// <summary>Epoch milliseconds for the 410 presets; null = now.</summary>
    public long? Timestamp { get; init; }

    /// <summary>Seconds; adds a Retry-After header to the error answer.</summary>
    public int? RetryAfter { get; init; }

    /// <summary>Answer so this many times, then behave normally; null = always.</summary>
    public int? Times { get; init; }
}

/// <summary>An explicit APNs answer.</summary>
public sealed record ApnsAnswer
{
    public int Status { get; init; }
    public string? Reason { get; init; }
    public long? Timestamp { get; init; }
}

/// <summary>An explicit FCM answer; <see cref="ErrorCode"/> null = no FcmError detail.</summary>
public sealed record FcmAnswer
{
    public int Status { get; init; }
    public string? GrpcStatus { get; init; }
    public string? ErrorCode { get; init; }
    public string? Message { get; init; }
}

/// <summary>One request in the received list.</summary>
public sealed record ReceivedRequest
{
    /// <summary><c>apns</c> or <c>fcm</c>.</summary>
    public required string Platform { get; init; }

    /// <summary><c>production</c>, <c>sandbox</c>, or null for FCM.</summary>
    public string? Environment { get; init; }

    public string? Token { get; init; }
    public string? Topic { get; init; }

    /// <summary>APNs headers that were sent (lower-case names); never <c>authorization</c>.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    private readonly byte[]? _rawBody;
    private JsonElement? _body;

    /// <summary>The parsed JSON body (APNs payload, or the FCM request body), when it was read.</summary>
    public JsonElement? Body
    {
        get => _body ??= _rawBody is null ? null : ParseBody(_rawBody);
        init => _body = value;
    }

    /// <summary>The body as received; parsed only when somebody reads <see cref="Body"/> (keeps recording cheap).</summary>
    internal byte[]? RawBody
    {
        init => _rawBody = value;
    }

    /// <summary>HTTP status answered; 0 when no answer was sent (presets <c>reset</c> and <c>hang</c>).</summary>
    public int Status { get; init; }

    /// <summary>APNs reason, or FCM errorCode (else its gRPC status); null on success.</summary>
    public string? Reason { get; init; }

    public DateTimeOffset ReceivedAt { get; init; }

    private static JsonElement ParseBody(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.Clone();
    }
}

public sealed record ReceivedPage(IReadOnlyList<ReceivedRequest> Items, int Total);

public sealed record ApnsCounters
{
    public long Requests { get; init; }
    public long Accepted { get; init; }
    public long Rejected { get; init; }
    public required IReadOnlyDictionary<string, long> ByReason { get; init; }
    public long ConnectionsOpened { get; init; }
    public long GoAwaysSent { get; init; }
    public long MaxConcurrentStreamsObserved { get; init; }
}

public sealed record FcmCounters
{
    public long Requests { get; init; }
    public long Accepted { get; init; }
    public long Rejected { get; init; }
    public required IReadOnlyDictionary<string, long> ByErrorCode { get; init; }
    public long TokenRequests { get; init; }
    public long TokensIssued { get; init; }
}

public sealed record SimulatorCounters(ApnsCounters Apns, FcmCounters Fcm);

internal sealed class ApnsEnvironmentJsonConverter()
    : JsonStringEnumConverter<ApnsEnvironment>(JsonNamingPolicy.CamelCase, allowIntegerValues: false);
