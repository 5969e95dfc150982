using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using PushGateway.Apns.Internal;
using PushGateway.Providers;

namespace PushGateway.Apns;

/// <summary>
/// Sends notifications to APNs over HTTP/2 (<c>POST /3/device/&lt;token&gt;</c>), with token (JWT) or certificate
/// authentication. One instance per credentials and environment, kept for the life of the process: Apple asks
/// providers to keep connections open for hours or days rather than reconnect per batch.
/// <see href="https://developer.apple.com/documentation/usernotifications/sending-notification-requests-to-apns"/>
/// </summary>
/// <remarks>
/// Every APNs answer, local rejection and transport failure comes back as an <see cref="ApnsResponse"/>; nothing is
/// retried here (the caller's durable pipeline decides). Exceptions are reserved for null arguments, use after
/// dispose, and cancellation through the caller's token.
/// </remarks>
public sealed class ApnsClient : IDisposable, IAsyncDisposable
{
    private const string ApnsIdHeader = "apns-id";
    private const string CollapseIdHeader = "apns-collapse-id";

    private static readonly UriCreationOptions UriOptions = new() { DangerousDisablePathAndQueryCanonicalization = true };

    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _requestTimeout;
    private readonly string _pathPrefix;
    private readonly ApnsProviderTokenCache.Entry? _tokenEntry;
    private readonly ApnsConnectionPool _pool;
    private readonly SemaphoreSlim _concurrency;
    private readonly ConcurrentQueue<CancellationTokenSource> _timeoutSources = new();
    private readonly int _maxPooledTimeoutSources;
    private volatile bool _disposed;

    /// <summary>Creates a client that authenticates with provider tokens signed by the given key.</summary>
    /// <param name="options">Endpoint, trust, timeouts and limits; read once here.</param>
    /// <param name="credentials">Team id, key id and the .p8 key.</param>
    /// <param name="tokenCache">
    /// A cache shared with other clients using the same key, so they all present one token; null = a private cache on
    /// <see cref="ApnsClientOptions.TimeProvider"/>.
    /// </param>
    /// <exception cref="ArgumentException">Invalid options, or a key that is not a P-256 PEM key.</exception>
    public ApnsClient(ApnsClientOptions options, ApnsTokenCredentials credentials, ApnsProviderTokenCache? tokenCache = null)
        : this(options, clientCertificate: null)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        tokenCache ??= new ApnsProviderTokenCache(_timeProvider);
        _tokenEntry = tokenCache.GetEntry(credentials);
    }

    /// <summary>Creates a client that authenticates with a TLS client certificate.</summary>
    /// <param name="options">Endpoint, trust, timeouts and limits; read once here.</param>
    /// <param name="credentials">The APNs certificate with its private key.</param>
    /// <exception cref="ArgumentException">Invalid options, or a certificate without private key.</exception>
    public ApnsClient(ApnsClientOptions options, ApnsCertificateCredentials credentials)
        : this(options, (credentials ?? throw new ArgumentNullException(nameof(credentials))).Certificate)
    {
    }

    private ApnsClient(ApnsClientOptions options, X509Certificate2? clientCertificate)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.BaseUrl);
        ArgumentNullException.ThrowIfNull(options.TimeProvider);
        if (!options.BaseUrl.IsAbsoluteUri || (options.BaseUrl.Scheme != Uri.UriSchemeHttps && options.BaseUrl.Scheme != Uri.UriSchemeHttp))
        {
            throw new ArgumentException("options.BaseUrl must be an absolute https URL.", nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConnections, 1, "options.MaxConnections");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConcurrentRequests, 1, "options.MaxConcurrentRequests");
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.RequestTimeout, TimeSpan.Zero, "options.RequestTimeout");
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.ConnectTimeout, TimeSpan.Zero, "options.ConnectTimeout");
        if (clientCertificate is not null && !clientCertificate.HasPrivateKey)
        {
            throw new ArgumentException("The APNs client certificate must include its private key.", "credentials");
        }

        _timeProvider = options.TimeProvider;
        _requestTimeout = options.RequestTimeout;
        _pathPrefix = options.BaseUrl.GetLeftPart(UriPartial.Authority) + "/3/device/";
        _concurrency = new SemaphoreSlim(options.MaxConcurrentRequests, options.MaxConcurrentRequests);
        _maxPooledTimeoutSources = options.MaxConcurrentRequests;

        var trust = ProviderTrust.CreateCallback(options.TrustedCertificate, options.TrustedCertificateSource);
        var connectTimeout = options.ConnectTimeout;
        _pool = new ApnsConnectionPool(
            options.MaxConnections,
            connection => CreateHandler(connection, trust, clientCertificate, connectTimeout));
    }

    /// <summary>HTTP/2 connections opened so far, replacements included (diagnostics and tests).</summary>
    internal int ConnectionsCreated => _pool.Created;

    /// <summary>
    /// Sends one notification and returns APNs' answer. A payload over <see cref="ApnsPayloadLimits.MaxBytes"/> or a
    /// device token with non-hex characters is answered locally (413 <c>PayloadTooLarge</c> / 400
    /// <c>BadDeviceToken</c>, <see cref="ApnsResponse.IsLocalRejection"/>) without sending anything; so is a topic
    /// or collapse id that cannot be sent safely as a header (<see cref="ApnsHeaderValues"/>: 400
    /// <see cref="ApnsHeaderValues.InvalidHeaderValueReason"/>, <see cref="ApnsResponseClass.RequestRejected"/>),
    /// which leaves the connection and the other requests on it untouched.
    /// </summary>
    /// <param name="request">The notification.</param>
    /// <param name="cancellationToken">Cancels the send; this, unlike a timeout, throws <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task<ApnsResponse> SendAsync(ApnsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.DeviceToken);
        ArgumentNullException.ThrowIfNull(request.Topic);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _ = ApnsPushTypes.ToHeaderValue(request.PushType); // an undefined enum value is a programmer error: throw now

        if (request.Payload.Length > ApnsPayloadLimits.MaxBytes(request.PushType))
        {
            return Task.FromResult(ApnsResponse.LocalRejection(413, "PayloadTooLarge"));
        }

        if (request.DeviceToken.Length == 0)
        {
            return Task.FromResult(ApnsResponse.LocalRejection(400, "MissingDeviceToken"));
        }

        // Anything but hex cannot be a token, and would change the meaning of the request path.
        if (!IsHex(request.DeviceToken))
        {
            return Task.FromResult(ApnsResponse.LocalRejection(400, "BadDeviceToken"));
        }

        // A CR/LF in a header takes the whole HTTP/2 connection down (every request in flight on it fails), and a
        // non-ASCII topic throws in the HTTP stack like a transport failure: refuse this one request, send nothing.
        if (!ApnsHeaderValues.IsValid(request.Topic)
            || (request.CollapseId is { } collapseId && !ApnsHeaderValues.IsValidCollapseId(collapseId)))
        {
            return Task.FromResult(ApnsResponse.LocalRejection(400, ApnsHeaderValues.InvalidHeaderValueReason));
        }

        return SendCoreAsync(request, cancellationToken);
    }

    /// <summary>Closes the connections once the requests in flight on them are done; later sends throw.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _pool.Dispose();
        while (_timeoutSources.TryDequeue(out var source))
        {
            source.Dispose();
        }
    }

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<ApnsResponse> SendCoreAsync(ApnsRequest request, CancellationToken cancellationToken)
    {
        var timeout = RentTimeoutSource();
        var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), timeout)
            : default;
        var holdsConcurrency = false;
        ApnsLease lease = default;
        try
        {
            await _concurrency.WaitAsync(timeout.Token).ConfigureAwait(false);
            holdsConcurrency = true;
            lease = await _pool.AcquireAsync(timeout.Token).ConfigureAwait(false);
            ApnsProviderToken? token = null;
            if (_tokenEntry is not null)
            {
                token = _tokenEntry.Current();
                while (!ReferenceEquals(lease.Connection.Token, token) && !TryAlignToken(lease.Connection, ref token))
                {
                    _pool.Replace(lease.Connection);
                    var replaced = lease;
                    lease = default;
                    _pool.Release(replaced);
                    lease = await _pool.AcquireAsync(timeout.Token).ConfigureAwait(false);
                }
            }

            using var message = CreateMessage(request, token);
            using var response = await lease.Connection.Invoker.SendAsync(message, timeout.Token).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return ReadAccepted(response);
            }

            var result = await ReadRejectionAsync(response, timeout.Token).ConfigureAwait(false);
            if (result.Reason == ApnsReason.ExpiredProviderToken && token is not null)
            {
                _tokenEntry!.Invalidate(token.Jwt);
            }

            if (ApnsReasons.RecyclesConnection(result.Reason))
            {
                _pool.Replace(lease.Connection);
            }

            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !_disposed)
        {
            return ApnsResponse.FromTransportFailure(
                string.Create(CultureInfo.InvariantCulture, $"Timeout: no answer within {_requestTimeout.TotalSeconds:0.###} s."));
        }
        catch (HttpRequestException e) when (!_disposed)
        {
            return ApnsResponse.FromTransportFailure(Describe(e, request.DeviceToken));
        }
        catch (IOException e) when (!_disposed)
        {
            return ApnsResponse.FromTransportFailure(Describe(e, request.DeviceToken));
        }
        catch (Exception) when (_disposed)
        {
            throw new ObjectDisposedException(nameof(ApnsClient));
        }
        finally
        {
            registration.Dispose();
            if (lease.Connection is not null)
            {
                _pool.Release(lease);
            }

            if (holdsConcurrency)
            {
                _concurrency.Release();
            }

            ReturnTimeoutSource(timeout);
        }
    }

    /// <summary>
    /// Decides which token a request presents on <paramref name="connection"/>. A connection presents one token for
    /// its whole life: APNs answers 429 TooManyProviderTokenUpdates when a connection sees a new token less than 20
    /// minutes after the previous one, and requests still in flight with the old token can reach the server after the
    /// first one with the new token. So a renewed token goes to a new connection (whose first token is free) and the
    /// old connection drains. False means the connection must be replaced.
    /// </summary>
    private static bool TryAlignToken(ApnsConnection connection, ref ApnsProviderToken token)
    {
        lock (connection.TokenLock)
        {
            var current = connection.Token;
            if (current is null)
            {
                connection.Token = token;
                return true;
            }

            if (ReferenceEquals(current, token))
            {
                return true;
            }

            if (current.IssuedAt >= token.IssuedAt)
            {
                // This request read the cache just before a renewal: the connection's newer token is just as good.
                token = current;
                return true;
            }

            return false;
        }
    }

    private HttpRequestMessage CreateMessage(ApnsRequest request, ApnsProviderToken? token)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri(string.Concat(_pathPrefix, request.DeviceToken), in UriOptions))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ReadOnlyMemoryContent(request.Payload),
        };

        var headers = message.Headers;
        if (token is not null)
        {
            headers.TryAddWithoutValidation("authorization", token.AuthorizationValue);
        }

        if (request.Topic.Length > 0)
        {
            headers.TryAddWithoutValidation("apns-topic", request.Topic);
        }

        headers.TryAddWithoutValidation("apns-push-type", ApnsPushTypes.ToHeaderValue(request.PushType));
        if (request.Priority is { } priority)
        {
            headers.TryAddWithoutValidation("apns-priority", priority switch
            {
                10 => "10",
                5 => "5",
                1 => "1",
                _ => priority.ToString(CultureInfo.InvariantCulture),
            });
        }

        if (request.Expiration is { } expiration)
        {
            headers.TryAddWithoutValidation(
                "apns-expiration",
                expiration == DateTimeOffset.UnixEpoch ? "0" : expiration.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        }

        if (request.CollapseId is not null)
        {
            headers.TryAddWithoutValidation(CollapseIdHeader, request.CollapseId);
        }

        if (request.ApnsId is { } apnsId)
        {
            headers.TryAddWithoutValidation(ApnsIdHeader, apnsId.ToString("D"));
        }

        return message;
    }

    private static ApnsResponse ReadAccepted(HttpResponseMessage response)
    {
        var headers = response.Headers.NonValidated;
        return ApnsResponse.Accepted(ReadApnsId(headers), ReadHeader(headers, "apns-unique-id"));
    }

    private async Task<ApnsResponse> ReadRejectionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        // Error answers are rare next to 200s; only they carry a body worth reading.
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var (reason, timestampMs) = ParseErrorBody(body);
        var headers = response.Headers.NonValidated;
        return ApnsResponse.FromHttp(
            (int)response.StatusCode,
            reason,
            ReadApnsId(headers),
            ReadHeader(headers, "apns-unique-id"),
            timestampMs is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null,
            ReadRetryAfter(response));
    }

    /// <summary>Reads <c>{"reason": "...", "timestamp": ms}</c>; anything unreadable leaves the fields null.</summary>
    internal static (string? Reason, long? TimestampMs) ParseErrorBody(ReadOnlySpan<byte> body)
    {
        string? reason = null;
        long? timestamp = null;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return (null, null);
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("reason"u8))
                {
                    reader.Read();
                    reason = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("timestamp"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var number))
                    {
                        timestamp = number;
                    }
                    else if (reader.TokenType == JsonTokenType.String
                        && long.TryParse(reader.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out number))
                    {
                        timestamp = number;
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // Keep what was read before the malformed part.
        }

        return (reason, timestamp);
    }

    private TimeSpan? ReadRetryAfter(HttpResponseMessage response)
    {
        if (!response.Headers.NonValidated.Contains("retry-after"))
        {
            return null;
        }

        var value = response.Headers.RetryAfter;
        if (value?.Delta is { } delta)
        {
            return delta;
        }

        if (value?.Date is { } date)
        {
            var wait = date - _timeProvider.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    private static Guid? ReadApnsId(HttpHeadersNonValidated headers) =>
        headers.TryGetValues(ApnsIdHeader, out var values) && Guid.TryParse(values.ToString(), out var id) ? id : null;

    private static string? ReadHeader(HttpHeadersNonValidated headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.ToString() : null;

    private static string Describe(Exception e, string deviceToken)
    {
        var text = e is HttpRequestException { HttpRequestError: not HttpRequestError.Unknown } http
            ? $"{http.HttpRequestError}: {e.Message}"
            : $"{e.GetType().Name}: {e.Message}";
        if (e.InnerException is { } inner && !string.IsNullOrEmpty(inner.Message) && !text.Contains(inner.Message, StringComparison.Ordinal))
        {
            text = $"{text} ({inner.Message})";
        }

        // Messages can quote the request URI, which holds the device token.
        return text.Replace(deviceToken, "<device-token>", StringComparison.Ordinal);
    }

    private static bool IsHex(string value)
    {
        foreach (var c in value)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private CancellationTokenSource RentTimeoutSource()
    {
        if (_timeProvider != TimeProvider.System)
        {
            // Created per request so the timeout runs on the caller's (possibly fake) clock.
            return new CancellationTokenSource(_requestTimeout, _timeProvider);
        }

        if (!_timeoutSources.TryDequeue(out var source))
        {
            source = new CancellationTokenSource();
        }

        source.CancelAfter(_requestTimeout);
        return source;
    }

    private void ReturnTimeoutSource(CancellationTokenSource source)
    {
        if (_timeProvider == TimeProvider.System && !_disposed && _timeoutSources.Count < _maxPooledTimeoutSources && source.TryReset())
        {
            _timeoutSources.Enqueue(source);
        }
        else
        {
            source.Dispose();
        }
    }

    private static SocketsHttpHandler CreateHandler(
        ApnsConnection connection,
        RemoteCertificateValidationCallback? trust,
        X509Certificate2? clientCertificate,
        TimeSpan connectTimeout)
    {
        var ssl = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = trust };
        if (clientCertificate is not null)
        {
            ssl.ClientCertificates = new X509CertificateCollection { clientCertificate };
            // Send the certificate whatever issuers the server lists as acceptable.
            ssl.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }

        return new SocketsHttpHandler
        {
            // One connection per handler; ApnsConnectionPool adds handlers up to MaxConnections (see its remarks).
            EnableMultipleHttp2Connections = false,
            ConnectTimeout = connectTimeout,
            // Apple: keep connections for hours or days; recycle twice a day so DNS changes are picked up.
            PooledConnectionLifetime = TimeSpan.FromHours(12),
            PooledConnectionIdleTimeout = TimeSpan.FromHours(1),
            // HTTP/2 PINGs find a dead connection before requests pile up on it.
            KeepAlivePingDelay = TimeSpan.FromSeconds(60),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            // Apple counts the collapse id in UTF-8 bytes; let non-ASCII ids through instead of failing the send.
            RequestHeaderEncodingSelector = static (name, _) =>
                string.Equals(name, CollapseIdHeader, StringComparison.OrdinalIgnoreCase) ? Encoding.UTF8 : null,
            SslOptions = ssl,
            PlaintextStreamFilter = (context, _) => ValueTask.FromResult(
                context.NegotiatedHttpVersion == HttpVersion.Version20
                    ? new Http2FrameObserverStream(context.PlaintextStream, connection.OnNewTransport())
                    : context.PlaintextStream),
        };
    }
}
