using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Google.Apis.Auth.OAuth2.Responses;
using PushGateway.Providers;

namespace PushGateway.Fcm;

/// <summary>
/// Sends messages to one Firebase project through the FCM HTTP v1 API
/// (<c>POST /v1/projects/{project}/messages:send</c>, https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send)
/// over HTTP/2, authenticated with OAuth access tokens minted from a service account. Thread-safe; keep one per
/// service account for the life of the process.
/// </summary>
/// <remarks>
/// Every expected outcome, including timeouts and transport failures, is an <see cref="FcmResponse"/>. The only
/// retry is the one Google's auth model needs: a 401/403 without FcmError detail makes the client fetch a fresh access
/// token and send that one request again, once.
/// </remarks>
public sealed class FcmClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly FcmAccessTokenSource _tokens;
    private readonly SemaphoreSlim _concurrency;
    private readonly Uri _sendUri;
    private readonly TimeSpan _requestTimeout;
    private readonly TimeProvider _timeProvider;
    private bool _disposed;

    /// <summary>Creates a client for the project of <paramref name="serviceAccountJson"/>.</summary>
    /// <param name="options">Endpoint, trust, timeout, concurrency and clock; read once.</param>
    /// <param name="serviceAccountJson">The service-account key file's JSON (see <see cref="FcmServiceAccount.TryParse"/>).</param>
    /// <exception cref="ArgumentException">The JSON lacks <c>project_id</c>, <c>client_email</c> or a usable <c>private_key</c>; the message names the field.</exception>
    public FcmClient(FcmClientOptions options, string serviceAccountJson)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(serviceAccountJson);
        ArgumentNullException.ThrowIfNull(options.BaseUrl);
        ArgumentNullException.ThrowIfNull(options.TokenUrl);
        ArgumentNullException.ThrowIfNull(options.TimeProvider);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConcurrentRequests, 1);
        if (options.RequestTimeout <= TimeSpan.Zero && options.RequestTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.RequestTimeout, "RequestTimeout must be positive.");
        }

        if (!FcmServiceAccount.TryParseWithKey(serviceAccountJson, out var parsed, out var error))
        {
            throw new ArgumentException(error, nameof(serviceAccountJson));
        }

        var (account, _, key) = parsed!.Value;
        ServiceAccount = account;
        _requestTimeout = options.RequestTimeout;
        _timeProvider = options.TimeProvider;
        _concurrency = new SemaphoreSlim(options.MaxConcurrentRequests, options.MaxConcurrentRequests);

        var baseUrl = options.BaseUrl.AbsoluteUri.EndsWith('/') ? options.BaseUrl : new Uri(options.BaseUrl.AbsoluteUri + "/");
        _sendUri = new Uri(baseUrl, $"v1/projects/{Uri.EscapeDataString(account.ProjectId)}/messages:send");

        var handler = new SocketsHttpHandler
        {
            // FCM serves many concurrent streams per HTTP/2 connection; more connections open when one is full.
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = options.RequestTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            KeepAlivePingDelay = TimeSpan.FromSeconds(60),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            SslOptions = { RemoteCertificateValidationCallback = ProviderTrust.CreateCallback(options.TrustedCertificate, options.TrustedCertificateSource) },
        };
        _http = new HttpClient(handler, disposeHandler: true)
        {
            // Our own per-attempt timeout applies (on the options' clock); HttpClient's would throw instead.
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            MaxResponseContentBufferSize = 1024 * 1024,
        };
        _tokens = new FcmAccessTokenSource(account, key, options);
    }

    /// <summary>The Firebase project messages are sent to (<c>project_id</c> of the service account).</summary>
    public string ProjectId => ServiceAccount.ProjectId;

    /// <summary>The service account this client authenticates as (public parts only).</summary>
    public FcmServiceAccountInfo ServiceAccount { get; }

    /// <summary>The URL messages are posted to.</summary>
    public Uri SendUri => _sendUri;

    /// <summary>
    /// Sends <paramref name="message"/>. With <paramref name="validateOnly"/> FCM validates it fully and delivers nothing
    /// (the name it returns is then <c>projects/{p}/messages/fake_message_id</c>). A message over
    /// <see cref="FcmLimits"/> is refused locally (<see cref="FcmResponse.IsLocalRejection"/>) and not sent.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<FcmResponse> SendAsync(FcmMessage message, bool validateOnly = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return SendSerializedAsync(FcmJson.SerializeMessage(message), FcmLimits.MaxBytesFor(message), validateOnly, cancellationToken);
    }

    /// <summary>
    /// Sends a raw v1 <c>message</c> object, for callers that merge their own overrides into
    /// <see cref="FcmMessage.ToJsonObject"/>. It is sent as is (FCM judges its fields); only its size is checked here.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<FcmResponse> SendAsync(JsonObject message, bool validateOnly = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return SendSerializedAsync(FcmJson.SerializeMessage(message), FcmLimits.MaxBytesFor(message), validateOnly, cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _http.Dispose();
        _tokens.Dispose();
        _concurrency.Dispose();
    }

    private async Task<FcmResponse> SendSerializedAsync(byte[] message, int limit, bool validateOnly, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (message.Length > limit)
        {
            return new FcmResponse(
                400, null, "INVALID_ARGUMENT", null,
                $"Message too big: {message.Length} bytes, limit {limit} (counted locally; not sent)",
                null, FcmResponseClass.RequestRejected, isLocalRejection: true);
        }

        var body = FcmJson.BuildSendBody(message, validateOnly);
        await _concurrency.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var (response, usedToken) = await AttemptAsync(body, rejectedToken: null, cancellationToken).ConfigureAwait(false);

            // Our own access token was refused (revoked, expired early, or minted before an IAM change): one fresh
            // token, one more try. With an FcmError detail the 401 is about Firebase's APNs/web-push setup instead.
            if (response.StatusCode is 401 or 403 && response.ErrorCode == FcmErrorCode.None && usedToken is not null)
            {
                (response, _) = await AttemptAsync(body, usedToken, cancellationToken).ConfigureAwait(false);
            }

            return response;
        }
        finally
        {
            _concurrency.Release();
        }
    }

    private async Task<(FcmResponse Response, string? AccessToken)> AttemptAsync(byte[] body, string? rejectedToken, CancellationToken cancellationToken)
    {
        using var timeout = _requestTimeout == Timeout.InfiniteTimeSpan
            ? new CancellationTokenSource()
            : new CancellationTokenSource(_requestTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);

        string accessToken;
        try
        {
            accessToken = rejectedToken is null
                ? await _tokens.GetAsync(linked.Token).ConfigureAwait(false)
                : await _tokens.RefreshAsync(rejectedToken, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (Transport(FcmTokenErrors.Timeout), null);
        }
        catch (TokenResponseException ex)
        {
            return (FromTokenError(ex), null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Connection failures, and whatever the auth library throws on an answer it cannot read (non-2xx answers
            // get a fixed OAuth error body first, see FcmAccessTokenSource.OAuthErrorBodies): the endpoint is not
            // usable now. The exception's text is not passed on: it can quote the endpoint.
            return (Transport(FcmTokenErrors.Unreachable), null);
        }

        if (string.IsNullOrEmpty(accessToken))
        {
            // A 2xx answer without an access_token (the library takes any JSON object as a token response).
            return (Transport(FcmTokenErrors.BadResponse), null);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, _sendUri)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);

        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token).ConfigureAwait(false);
            var content = await response.Content.ReadAsByteArrayAsync(linked.Token).ConfigureAwait(false);
            var retryAfter = response.Headers.TryGetValues("Retry-After", out var values) ? values.FirstOrDefault() : null;
            var answer = FcmErrorParser.FromHttp((int)response.StatusCode, content, retryAfter, _timeProvider.GetUtcNow());
            return (answer.WithProtocolVersion(response.Version), accessToken);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (Transport($"no answer within {_requestTimeout.TotalSeconds:0.###} s"), accessToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return (Transport(Describe(ex)), accessToken);
        }
    }

    /// <summary>
    /// The token endpoint answered with an error: a 4xx refuses the service account, anything else is "later". Only a
    /// fixed code is kept (<see cref="FcmTokenErrors"/>), never the endpoint's description.
    /// </summary>
    private static FcmResponse FromTokenError(TokenResponseException ex)
    {
        var status = (int?)ex.StatusCode;
        if (status is null or (>= 200 and < 300))
        {
            return Transport(FcmTokenErrors.BadResponse);
        }

        var code = FcmTokenErrors.For(status.Value, ex.Error?.Error);
        if (status is 408 or 429 or >= 500 or < 400)
        {
            return Transport(code);
        }

        return new FcmResponse(0, null, null, null, null, null, FcmResponseClass.CredentialsRejected, tokenEndpointError: code);
    }

    private static FcmResponse Transport(string description) =>
        new(0, null, null, null, null, null, FcmResponseClass.Retryable, transportError: description);

    private static string Describe(Exception ex)
    {
        var kind = ex is HttpRequestException { HttpRequestError: not HttpRequestError.Unknown } http ? http.HttpRequestError.ToString() : ex.GetType().Name;
        var inner = ex.InnerException?.Message;
        return inner is null ? $"{kind}: {ex.Message}" : $"{kind}: {ex.Message} ({inner})";
    }
}
