using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using PushGateway.Simulator.Security;

namespace PushGateway.Simulator;

/// <summary>
/// Everything the control API does, in-process and with the same semantics: keys, certificates, service accounts,
/// token behaviours, settings, the received list and counters. Thread-safe.
/// </summary>
public sealed class SimulatorState
{
    private const string KeyIdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    private readonly SimulatorSettings _initialSettings;
    private readonly ConcurrentDictionary<string, ApnsKey> _apnsKeys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ApnsCertificateRegistration> _certificates = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, FcmServiceAccount> _serviceAccounts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FcmAccessGrant> _accessTokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, BehaviorEntry> _behaviors = new(StringComparer.Ordinal);
    private readonly ReceivedLog _received = new();
    private volatile SimulatorSettings _settings;
    private volatile CounterSet _counters = new();

    internal SimulatorState(SimulatorSettings initialSettings, TimeProvider time, Func<string> tokenUri)
    {
        Validate(initialSettings);
        _initialSettings = initialSettings;
        _settings = initialSettings;
        Time = time;
        TokenUri = tokenUri;
    }

    /// <summary>The current settings.</summary>
    public SimulatorSettings Settings => _settings;

    internal TimeProvider Time { get; }
    internal Func<string> TokenUri { get; }
    internal CounterSet Counters => _counters;

    /// <summary>Raised with the new value when <c>maxConcurrentStreams</c> changes.</summary>
    internal Action<int>? MaxConcurrentStreamsChanged { get; set; }

    /// <summary>Forgets keys, certificates, service accounts, access tokens, behaviours, received list and counters; settings back to start values.</summary>
    public void Reset()
    {
        foreach (var key in _apnsKeys.Values)
        {
            key.Revoke();
        }

        _apnsKeys.Clear();
        _certificates.Clear();
        _serviceAccounts.Clear();
        _accessTokens.Clear();
        _behaviors.Clear();
        _received.Clear();
        var previous = _settings;
        _settings = _initialSettings;
        _counters = new CounterSet();
        if (previous.MaxConcurrentStreams != _initialSettings.MaxConcurrentStreams)
        {
            MaxConcurrentStreamsChanged?.Invoke(_initialSettings.MaxConcurrentStreams);
        }
    }

    /// <summary>Applies the non-null members of <paramref name="update"/>; throws <see cref="ArgumentException"/> on an invalid value.</summary>
    public SimulatorSettings UpdateSettings(SimulatorSettingsUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        var current = _settings;
        var next = current with
        {
            LatencyMs = update.LatencyMs ?? current.LatencyMs,
            LatencyJitterMs = update.LatencyJitterMs ?? current.LatencyJitterMs,
            FailureRate = update.FailureRate ?? current.FailureRate,
            GoAwayEveryStreams = update.GoAwayEveryStreams ?? current.GoAwayEveryStreams,
            MaxConcurrentStreams = update.MaxConcurrentStreams ?? current.MaxConcurrentStreams,
            RecordRequests = update.RecordRequests ?? current.RecordRequests,
            ReceivedCapacity = update.ReceivedCapacity ?? current.ReceivedCapacity,
            BadEnvironmentKeySpelling = update.BadEnvironmentKeySpelling ?? current.BadEnvironmentKeySpelling,
            FcmAccessTokenLifetimeSeconds = update.FcmAccessTokenLifetimeSeconds ?? current.FcmAccessTokenLifetimeSeconds,
            TokenUpdateMinIntervalSeconds = update.TokenUpdateMinIntervalSeconds ?? current.TokenUpdateMinIntervalSeconds,
        };
        Validate(next);
        _settings = next;
        _received.Trim(next.ReceivedCapacity);
        if (next.MaxConcurrentStreams != current.MaxConcurrentStreams)
        {
            MaxConcurrentStreamsChanged?.Invoke(next.MaxConcurrentStreams);
        }

        return next;
    }

    /// <summary>Registers an APNs signing key; without a public key the simulator generates one and returns its PKCS#8 PEM.</summary>
    public ApnsKeyResult AddApnsKey(ApnsKeyRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.TeamId))
        {
            throw new ArgumentException("teamId is required.", nameof(request));
        }

        var keyId = string.IsNullOrWhiteSpace(request.KeyId)
            ? RandomNumberGenerator.GetString(KeyIdAlphabet, 10)
            : request.KeyId;
        var environment = request.Environment ?? ApnsEnvironment.Both;

        ECDsa key = ECDsa.Create();
        string? privateKeyPem = null;
        try
        {
            if (request.PublicKeyPem is null)
            {
                key.GenerateKey(ECCurve.NamedCurves.nistP256);
                privateKeyPem = key.ExportPkcs8PrivateKeyPem();
            }
            else
            {
                key.ImportFromPem(request.PublicKeyPem);
            }
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new ArgumentException("publicKeyPem is not a PEM EC key: " + ex.Message, nameof(request), ex);
        }

        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new ArgumentException("APNs keys are P-256 (ES256).", nameof(request));
        }

        // Keep only the public part: nothing on the verification side needs the private key.
        var publicOnly = ECDsa.Create(key.ExportParameters(false));
        key.Dispose();

        HashSet<string>? topics = request.Topics is null ? null : new HashSet<string>(request.Topics, StringComparer.Ordinal);
        var registered = new ApnsKey(keyId, request.TeamId, publicOnly, topics, environment);
        _apnsKeys.AddOrUpdate(keyId, registered, (_, old) =>
        {
            old.Revoke();
            return registered;
        });
        return new ApnsKeyResult(request.TeamId, keyId, privateKeyPem);
    }

    /// <summary>Revokes a key: its JWTs now get 403 InvalidProviderToken. False when the key is unknown.</summary>
    public bool RevokeApnsKey(string keyId)
    {
        if (_apnsKeys.TryRemove(keyId, out var key))
        {
            key.Revoke();
            return true;
        }

        return false;
    }

    /// <summary>Registers a provider client certificate; without a PEM the simulator generates one and returns it as PKCS#12.</summary>
    public ApnsCertificateResult AddApnsCertificate(ApnsCertificateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.BundleId))
        {
            throw new ArgumentException("bundleId is required.", nameof(request));
        }

        var environment = request.Environment ?? ApnsEnvironment.Both;
        if (request.CertificatePem is not null)
        {
            X509Certificate2 supplied;
            try
            {
                supplied = X509Certificate2.CreateFromPem(request.CertificatePem);
            }
            catch (CryptographicException ex)
            {
                throw new ArgumentException("certificatePem is not a PEM certificate: " + ex.Message, nameof(request), ex);
            }

            using (supplied)
            {
                var registration = new ApnsCertificateRegistration(supplied.Thumbprint, request.BundleId, environment, supplied.NotAfter.ToUniversalTime());
                _certificates[registration.Thumbprint] = registration;
                return new ApnsCertificateResult(registration.Thumbprint, null, null, new DateTimeOffset(supplied.NotAfter.ToUniversalTime()));
            }
        }

        using var generated = CertificateFactory.CreateApnsClientCertificate(request.BundleId, Time);
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        var pkcs12 = generated.Export(X509ContentType.Pkcs12, password);
        var notAfter = new DateTimeOffset(generated.NotAfter.ToUniversalTime());
        _certificates[generated.Thumbprint] = new ApnsCertificateRegistration(generated.Thumbprint, request.BundleId, environment, notAfter);
        return new ApnsCertificateResult(generated.Thumbprint, Convert.ToBase64String(pkcs12), password, notAfter);
    }

    /// <summary>Registers a service account; without a public key the simulator generates one and returns a complete service-account JSON.</summary>
    public FcmServiceAccountResult AddFcmServiceAccount(FcmServiceAccountRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.ProjectId))
        {
            throw new ArgumentException("projectId is required.", nameof(request));
        }

        var clientEmail = string.IsNullOrWhiteSpace(request.ClientEmail)
            ? $"simulator-{RandomNumberGenerator.GetHexString(6, lowercase: true)}@{request.ProjectId}.iam.gserviceaccount.com"
            : request.ClientEmail;

        var rsa = RSA.Create();
        string? json = null;
        try
        {
            if (request.PublicKeyPem is null)
            {
                rsa.KeySize = 2048;
                var privateKeyPem = rsa.ExportPkcs8PrivateKeyPem();
                json = ServiceAccountJson(request.ProjectId, clientEmail, privateKeyPem);
            }
            else
            {
                rsa.ImportFromPem(request.PublicKeyPem);
            }
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            throw new ArgumentException("publicKeyPem is not a PEM RSA key: " + ex.Message, nameof(request), ex);
        }

        var publicOnly = RSA.Create(rsa.ExportParameters(false));
        rsa.Dispose();
        _serviceAccounts[clientEmail] = new FcmServiceAccount(request.ProjectId, clientEmail, publicOnly);
        return new FcmServiceAccountResult(request.ProjectId, clientEmail, json);
    }

    /// <summary>Every access token issued so far is rejected with 401 from now on.</summary>
    public void RevokeFcmAccessTokens() => _accessTokens.Clear();

    /// <summary>Sets how a device token behaves (replaces an earlier behaviour); throws <see cref="ArgumentException"/> on an unknown preset.</summary>
    public void SetTokenBehavior(string token, TokenBehavior behavior)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        ArgumentNullException.ThrowIfNull(behavior);
        if (behavior.Preset is not null && !TokenPresets.IsKnown(behavior.Preset))
        {
            throw new ArgumentException($"Unknown preset '{behavior.Preset}'. Known: {string.Join(", ", TokenPresets.All)}.", nameof(behavior));
        }

        if (behavior.Times is < 0)
        {
            throw new ArgumentException("times must be >= 0.", nameof(behavior));
        }

        _behaviors[token] = new BehaviorEntry(behavior);
    }

    /// <summary>Back to normal behaviour for this token.</summary>
    public bool ClearTokenBehavior(string token) => _behaviors.TryRemove(token, out _);

    /// <summary>The newest <paramref name="limit"/> matching received requests, oldest first, and the number of matches.</summary>
    public ReceivedPage GetReceived(string? platform = null, string? token = null, int limit = 100) =>
        _received.Query(platform, token, limit);

    public void ClearReceived() => _received.Clear();

    public SimulatorCounters GetCounters() => _counters.Snapshot();

    internal ApnsKey? FindApnsKey(string keyId) =>
        _apnsKeys.TryGetValue(keyId, out var key) && !key.Revoked ? key : null;

    internal bool IsCurrent(ApnsKey key) =>
        !key.Revoked && _apnsKeys.TryGetValue(key.KeyId, out var current) && ReferenceEquals(current, key);

    internal ApnsCertificateRegistration? FindCertificate(string thumbprint) =>
        _certificates.TryGetValue(thumbprint, out var registration) ? registration : null;

    internal FcmServiceAccount? FindServiceAccount(string clientEmail) =>
        _serviceAccounts.TryGetValue(clientEmail, out var account) ? account : null;

    internal string IssueAccessToken(FcmServiceAccount account, TimeSpan lifetime)
    {
        var token = "ya29.sim." + Convert.ToBase64String(RandomNumberGenerator.GetBytes(36)).Replace('+', '-').Replace('/', '_');
        _accessTokens[token] = new FcmAccessGrant(account.ProjectId, account.ClientEmail, Time.GetUtcNow() + lifetime);
        return token;
    }

    internal FcmAccessGrant? FindAccessToken(string token) =>
        _accessTokens.TryGetValue(token, out var grant) ? grant : null;

    /// <summary>The behaviour entry for a token, without using it; null = behave normally.</summary>
    internal BehaviorEntry? FindBehavior(string token) =>
        _behaviors.TryGetValue(token, out var entry) ? entry : null;

    /// <summary>
    /// Takes one use of a behaviour that is about to decide an answer; false once its <c>times</c> budget is spent,
    /// and then the token behaves normally again.
    /// </summary>
    internal bool TryUseBehavior(string token, BehaviorEntry entry)
    {
        if (entry.TryConsume())
        {
            return true;
        }

        // Budget spent: forget it (only if nobody replaced it meanwhile).
        _behaviors.TryRemove(new KeyValuePair<string, BehaviorEntry>(token, entry));
        return false;
    }

    internal void Record(ReceivedRequest item) => _received.Add(item, _settings.ReceivedCapacity);

    private string ServiceAccountJson(string projectId, string clientEmail, string privateKeyPem)
    {
        var tokenUri = TokenUri();
        var document = new Dictionary<string, string>
        {
            ["type"] = "service_account",
            ["project_id"] = projectId,
            ["private_key_id"] = RandomNumberGenerator.GetHexString(40, lowercase: true),
            ["private_key"] = privateKeyPem.EndsWith('\n') ? privateKeyPem : privateKeyPem + "\n",
            ["client_email"] = clientEmail,
            ["client_id"] = RandomNumberGenerator.GetString("0123456789", 21),
            ["auth_uri"] = "https://accounts.google.com/o/oauth2/auth",
            ["token_uri"] = tokenUri,
            ["auth_provider_x509_cert_url"] = "https://www.googleapis.com/oauth2/v1/certs",
            ["client_x509_cert_url"] = "https://www.googleapis.com/robot/v1/metadata/x509/" + Uri.EscapeDataString(clientEmail),
            ["universe_domain"] = "googleapis.com",
        };
        return JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true });
    }

    private static void Validate(SimulatorSettings s)
    {
        if (s.LatencyMs < 0 || s.LatencyJitterMs < 0)
        {
            throw new ArgumentException("latencyMs and latencyJitterMs must be >= 0.");
        }

        if (s.FailureRate is < 0 or > 1 || double.IsNaN(s.FailureRate))
        {
            throw new ArgumentException("failureRate must be within 0..1.");
        }

        if (s.GoAwayEveryStreams < 0)
        {
            throw new ArgumentException("goAwayEveryStreams must be >= 0.");
        }

        if (s.MaxConcurrentStreams < 1)
        {
            throw new ArgumentException("maxConcurrentStreams must be >= 1.");
        }

        if (s.ReceivedCapacity < 0)
        {
            throw new ArgumentException("receivedCapacity must be >= 0.");
        }

        if (s.BadEnvironmentKeySpelling is not (ApnsReasons.BadEnvironmentKeyInToken or ApnsReasons.BadEnvironmentKeyIdInToken))
        {
            throw new ArgumentException("badEnvironmentKeySpelling must be BadEnvironmentKeyInToken or BadEnvironmentKeyIdInToken.");
        }

        if (s.FcmAccessTokenLifetimeSeconds < 1)
        {
            throw new ArgumentException("fcmAccessTokenLifetimeSeconds must be >= 1.");
        }

        if (s.TokenUpdateMinIntervalSeconds < 0)
        {
            throw new ArgumentException("tokenUpdateMinIntervalSeconds must be >= 0.");
        }
    }
}
