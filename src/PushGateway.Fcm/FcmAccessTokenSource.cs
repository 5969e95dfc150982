using System.Security.Cryptography;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Http;
using Google.Apis.Util;
using PushGateway.Providers;

namespace PushGateway.Fcm;

/// <summary>
/// OAuth 2.0 access tokens for one service account, through Google.Apis.Auth's <see cref="ServiceAccountCredential"/>
/// (JWT-bearer grant to <see cref="FcmClientOptions.TokenUrl"/>, never to the key file's <c>token_uri</c>). The library
/// caches the token and fetches a new one 6 minutes before expiry (never using one within 5 minutes of expiry), on the
/// clock we give it.
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
            SslOptions = { RemoteCertificateValidationCallback = ProviderTrust.CreateCallback(options.TrustedCertificate, options.TrustedCertificateSource) },
        };

        // The constructor with an explicit token server URL lets the operator's setting, not the key file's
        // token_uri, say where the signed JWT goes (GoogleCredential.FromJson and CredentialFactory.FromJson would
        // call token_uri: whatever URL the uploader wrote there, an internal one among them), and keeps control of
        // the clock and the HTTP client. The URL is also the JWT's audience.
        var initializer = new ServiceAccountCredential.Initializer(account.ClientEmail, options.TokenUrl.AbsoluteUri)
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
    /// Replaces the body of every non-2xx token endpoint answer with <c>{"error": code}</c>, where the code is the
    /// answer's OAuth <c>error</c> if it is one of <see cref="FcmTokenErrors.KnownCodes"/> and <c>http_&lt;status&gt;</c>
    /// otherwise. Google.Apis.Auth then always reports a refusal as a
    /// <see cref="Google.Apis.Auth.OAuth2.Responses.TokenResponseException"/> with the status (an empty or HTML 404
    /// from a wrong path too, instead of "Server response does not contain a JSON object"), and no text the endpoint
    /// chose (<c>error_description</c>, an HTML page) gets into an exception message where it could be logged or
    /// passed on.
    /// </summary>
    internal sealed class OAuthErrorBodies(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        /// <summary>An OAuth error body is a few hundred bytes; more than this is not one.</summary>
        private const int MaxErrorBodyBytes = 16 * 1024;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            var status = (int)response.StatusCode;
            var error = ReadOAuthError(await ReadBoundedAsync(response.Content, cancellationToken).ConfigureAwait(false));
            var code = error is not null && FcmTokenErrors.KnownCodes.Contains(error) ? error : $"http_{status}";
            var body = new System.Text.Json.Nodes.JsonObject { ["error"] = code };
            response.Content.Dispose();
            response.Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
            return response;
        }

        private static async Task<byte[]> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
        {
            await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var buffer = new byte[MaxErrorBodyBytes];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
            {
                length += read;
            }

            return buffer[..length];
        }

        private static string? ReadOAuthError(byte[] body)
        {
            try
            {
                return System.Text.Json.Nodes.JsonNode.Parse(body) is System.Text.Json.Nodes.JsonObject o
                    && o["error"] is System.Text.Json.Nodes.JsonValue v
                    && v.TryGetValue<string>(out var error) ? error : null;
            }
            catch (System.Text.Json.JsonException)
            {
                return null;
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
