using System.Security.Cryptography;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Http;
using Google.Apis.Util;
using PushGateway.Providers;

namespace PushGateway.Fcm;

/// <summary>
/// OAuth 2.0 access tokens for one service account, through Google.Apis.Auth's <see cref="ServiceAccountCredential"/>
/// (JWT-bearer grant to the key file's <c>token_uri</c>). The library caches the token and fetches a new one
/// 6 minutes before expiry (never using one within 5 minutes of expiry), on the clock we give it.
/// </summary>
internal sealed class FcmAccessTokenSource : IDisposable
{
    /// <summary>https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send (authorization scopes).</summary>
    public const string Scope = "https://www.googleapis.com/auth/firebase.messaging";

    private readonly ServiceAccountCredential _credential;
    private readonly SocketsHttpHandler _handler;
    private readonly RSA _key;
    private readonly SemaphoreSlim _refreshLock = new(1, 1);

    public FcmAccessTokenSource(FcmServiceAccountInfo account, RSA key, FcmClientOptions options)
    {
        _key = key;
        _handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.RequestTimeout,
            AllowAutoRedirect = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            SslOptions = { RemoteCertificateValidationCallback = ProviderTrust.CreateCallback(options.TrustedCertificate) },
        };

        // The constructor with an explicit token server URL is the non-obsolete way to honour the key file's
        // token_uri while keeping control of the clock and the HTTP client (GoogleCredential.FromJson is obsolete
        // in 1.78, and CredentialFactory.FromJson gives no way to set the clock).
        var initializer = new ServiceAccountCredential.Initializer(account.ClientEmail, account.TokenUri.AbsoluteUri)
        {
            ProjectId = account.ProjectId,
            KeyId = account.PrivateKeyId,
            Key = key,
            Scopes = [Scope],
            Clock = new TimeProviderClock(options.TimeProvider),
            HttpClientFactory = new HttpClientFromMessageHandlerFactory(
                _ => new HttpClientFromMessageHandlerFactory.ConfiguredHttpMessageHandler(new OAuthErrorBodies(_handler), false, false)),
            // No hidden retries: a failing token endpoint is reported at once and the caller's pipeline retries.
            DefaultExponentialBackOffPolicy = ExponentialBackOffPolicy.None,
        };
        _credential = new ServiceAccountCredential(initializer);
        // Bounds a token request that runs on in the background after the caller stopped waiting for it.
        _credential.HttpClient.Timeout = options.RequestTimeout == Timeout.InfiniteTimeSpan ? TimeSpan.FromSeconds(100) : options.RequestTimeout;
    }

    /// <summary>The cached access token, or a fresh one when it is missing or about to expire.</summary>
    public Task<string> GetAsync(CancellationToken cancellationToken) =>
        _credential.GetAccessTokenForRequestAsync(authUri: null, cancellationToken);

    /// <summary>
    /// Forces a new access token after FCM refused <paramref name="rejectedToken"/>; when concurrent requests were
    /// refused with the same token only the first one asks the token endpoint, the others reuse its result.
    /// </summary>
    public async Task<string> RefreshAsync(string rejectedToken, CancellationToken cancellationToken)
    {
        await _refreshLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = _credential.Token?.AccessToken;
            if (current is not null && current != rejectedToken)
            {
                return await GetAsync(cancellationToken).ConfigureAwait(false);
            }

            await _credential.RequestAccessTokenAsync(cancellationToken).ConfigureAwait(false);
            return _credential.Token?.AccessToken ?? await GetAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _refreshLock.Release();
        }
    }

    public void Dispose()
    {
        _handler.Dispose();
        _refreshLock.Dispose();
        _key.Dispose();
    }

    /// <summary>
    /// Gives a token endpoint's 4xx answer an OAuth error body when it has none (a <c>token_uri</c> pointing at the
    /// wrong path answers 404 with an empty or HTML body), so that Google.Apis.Auth reports it as a
    /// <see cref="Google.Apis.Auth.OAuth2.Responses.TokenResponseException"/> whose error says what happened
    /// (<c>http_404</c>, is token_uri right?) rather than "Server response does not contain a JSON object", whatever
    /// the body was. A refused service account is a credentials problem; 408, 429 and 5xx stay as they are: "later".
    /// </summary>
    internal sealed class OAuthErrorBodies(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status is < 400 or >= 500 or 408 or 429)
            {
                return response;
            }

            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (HasOAuthError(body))
            {
                response.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
                return response;
            }

            var error = new System.Text.Json.Nodes.JsonObject
            {
                ["error"] = $"http_{status}",
                ["error_description"] = $"the token endpoint answered HTTP {status} without an OAuth error (is token_uri right?)",
            };
            response.Content = new StringContent(error.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
            return response;
        }

        private static bool HasOAuthError(string body)
        {
            try
            {
                return System.Text.Json.Nodes.JsonNode.Parse(body) is System.Text.Json.Nodes.JsonObject o
                    && o["error"] is System.Text.Json.Nodes.JsonValue v
                    && v.TryGetValue<string>(out var error) && error.Length > 0;
            }
            catch (System.Text.Json.JsonException)
            {
                return false;
            }
        }
    }

    /// <summary>Google.Apis' clock abstraction over our <see cref="TimeProvider"/>.</summary>
    private sealed class TimeProviderClock(TimeProvider timeProvider) : IClock
    {
        public DateTime Now => timeProvider.GetLocalNow().DateTime;

        public DateTime UtcNow => timeProvider.GetUtcNow().UtcDateTime;
    }
}
