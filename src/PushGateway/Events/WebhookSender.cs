using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;

namespace PushGateway.Events;

/// <summary>What one webhook request came to.</summary>
internal abstract record WebhookAttempt
{
    public sealed record Delivered(int Status) : WebhookAttempt;

    /// <summary>
    /// A non-2xx answer (<c>HTTP 503</c>), a refused address (<c>address not allowed</c>) or no answer at all
    /// (<c>connection failed</c>); <see cref="Error"/> is short and never holds the body or secret.
    /// </summary>
    public sealed record Failed(string Error, TimeSpan? RetryAfter = null) : WebhookAttempt;
}

/// <summary>
/// POSTs one event to its application's webhook, signed. The HTTP client has no retry or redirect handling of its
/// own: every attempt is recorded by the dispatcher, and a redirect (a failed attempt, <c>HTTP 302</c>) would turn the
/// POST into a GET and could lead anywhere. It connects only where <see cref="WebhookAddressPolicy"/> allows
/// (<see cref="WebhookConnector"/>).
/// </summary>
internal sealed class WebhookSender(IHttpClientFactory clients, TimeProvider time, IOptions<EventsOptions> options)
{
    public const string ClientName = "PushGateway.Webhooks";
    public const string EventIdHeader = "PushGateway-Event-Id";
    public const string EventTypeHeader = "PushGateway-Event-Type";

    /// <summary>
    /// The one text for every attempt that got no HTTP answer: refused, unreachable, timed out (connecting or waiting),
    /// TLS failure, connection closed, name not found. Telling them apart would let a tenant map which ports are open
    /// on any address the gateway can reach (refused = closed, timeout = filtered, no answer = open).
    /// </summary>
    public const string ConnectionFailed = "connection failed";

    private readonly TimeSpan _timeout = options.Value.RequestTimeout;

    public static void Configure(IServiceCollection services) =>
        services.AddHttpClient(ClientName, client =>
            {
                client.Timeout = Timeout.InfiniteTimeSpan;
                client.DefaultRequestHeaders.UserAgent.ParseAdd("PushGateway-Webhooks/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                ConnectCallback = new WebhookConnector(sp.GetRequiredService<IOptions<EventsOptions>>().Value.AllowPrivateNetworks).ConnectAsync,
                AllowAutoRedirect = false,
                UseCookies = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            })
            // The factory's handler rotation is not needed with a pooled-connection lifetime; its request logs would
            // print webhook URLs (which may carry tokens) and add nothing the dispatcher does not log itself.
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers();

    public async Task<WebhookAttempt> SendAsync(ClaimedEvent e, byte[] key, CancellationToken stoppingToken)
    {
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, e.Url) { Content = new ByteArrayContent(e.Payload) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName, WebhookSignature.Header(key, timestamp, e.Payload));
        request.Headers.TryAddWithoutValidation(EventIdHeader, e.Id.ToString());
        request.Headers.TryAddWithoutValidation(EventTypeHeader, e.Type);

        using var timeout = new CancellationTokenSource(_timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
        try
        {
            // Headers are enough; the handler drains (or drops) whatever body the receiver sends.
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return new WebhookAttempt.Delivered(status);
            }

            var retryAfter = RetryAfter(response.Headers.RetryAfter, time.GetUtcNow());
            return new WebhookAttempt.Failed(
                retryAfter is { } after ? $"HTTP {status} (Retry-After {after.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s)" : $"HTTP {status}",
                retryAfter);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
        {
            return new WebhookAttempt.Failed(ConnectionFailed);
        }
        catch (HttpRequestException ex) when (ex.InnerException is WebhookAddressRefusedException)
        {
            return new WebhookAttempt.Failed(WebhookAddressPolicy.AddressNotAllowed);
        }
        catch (HttpRequestException)
        {
            return new WebhookAttempt.Failed(ConnectionFailed);
        }
    }

    internal static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now)
    {
        var after = header switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - now,
            _ => (TimeSpan?)null,
        };
        return after is { } a && a > TimeSpan.Zero ? a : null;
    }
}
