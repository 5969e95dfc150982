using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PushGateway.IntegrationTests.Events;

/// <summary>What the receiver answers one request with.</summary>
public abstract record WebhookAnswer
{
    public static readonly WebhookAnswer Ok = new Status(200);

    public sealed record Status(int Code, int? RetryAfterSeconds = null) : WebhookAnswer;

    /// <summary>Never answers: the request stays open until the gateway gives up (or the receiver stops).</summary>
    public sealed record Hang : WebhookAnswer;
}

/// <summary>One request the receiver got, with its own verdict on the signature.</summary>
public sealed record ReceivedWebhook(
    DateTimeOffset ReceivedAt,
    string? EventId,
    string? EventType,
    string? ContentType,
    string? Signature,
    bool SignatureValid,
    long Timestamp,
    string Body,
    WebhookAnswer Answer)
{
    public JsonObject Json => JsonNode.Parse(Body)!.AsObject();

    public bool Accepted => Answer is WebhookAnswer.Status { Code: >= 200 and < 300 };
}

/// <summary>
/// A webhook endpoint on real Kestrel (port 0) inside the test: records every request, checks its signature with the
/// secret independently of the gateway's code, and answers as <see cref="Respond"/> says (200 by default).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly byte[] _secret;
    private readonly List<ReceivedWebhook> _received = [];
    private readonly CancellationTokenSource _stopping = new();
    private int _open;

    private WebhookReceiver(WebApplication app, string secret)
    {
        _app = app;
        _secret = Encoding.UTF8.GetBytes(secret);
    }

    public string Secret => Encoding.UTF8.GetString(_secret);

    public Uri Url { get; private set; } = null!;

    /// <summary>Decides the answer from the request number (0-based, counting every request) and the request.</summary>
    public Func<int, ReceivedWebhook, WebhookAnswer> Respond { get; set; } = (_, _) => WebhookAnswer.Ok;

    /// <summary>Requests the receiver is holding open right now (hanging).</summary>
    public int Open => Volatile.Read(ref _open);

    public IReadOnlyList<ReceivedWebhook> Received
    {
        get
        {
            lock (_received)
            {
                return [.. _received];
            }
        }
    }

    public static async Task<WebhookReceiver> StartAsync(string? secret = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, secret ?? "whsec-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        app.MapPost("/{**path}", receiver.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = new Uri(address + "/hooks/push");
        return receiver;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        var signature = context.Request.Headers["PushGateway-Signature"].ToString();
        var (valid, timestamp) = Verify(signature, body);
        var pending = new ReceivedWebhook(
            DateTimeOffset.UtcNow,
            context.Request.Headers["PushGateway-Event-Id"].ToString(),
            context.Request.Headers["PushGateway-Event-Type"].ToString(),
            context.Request.ContentType,
            signature,
            valid,
            timestamp,
            Encoding.UTF8.GetString(body),
            WebhookAnswer.Ok);
        WebhookAnswer answer;
        lock (_received)
        {
            answer = Respond(_received.Count, pending);
            _received.Add(pending with { Answer = answer });
        }

        switch (answer)
        {
            case WebhookAnswer.Hang:
                Interlocked.Increment(ref _open);
                try
                {
                    using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
                    await Task.Delay(Timeout.Infinite, linked.Token);
                }
                catch (OperationCanceledException)
                {
                    context.Abort();
                }
                finally
                {
                    Interlocked.Decrement(ref _open);
                }

                break;
            case WebhookAnswer.Status status:
                context.Response.StatusCode = status.Code;
                if (status.RetryAfterSeconds is { } seconds)
                {
                    context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                }

                break;
        }
    }

    /// <summary>What a receiver is told to do: recompute the HMAC over "t.body" and compare in constant time.</summary>
    private (bool Valid, long Timestamp) Verify(string header, byte[] body)
    {
        string? t = null, v1 = null;
        foreach (var part in header.Split(','))
        {
            var kv = part.Split('=', 2);
            if (kv.Length == 2 && kv[0] == "t")
            {
                t = kv[1];
            }
            else if (kv.Length == 2 && kv[0] == "v1")
            {
                v1 = kv[1];
            }
        }

        if (t is null || v1 is null || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp))
        {
            return (false, 0);
        }

        byte[] signed = [.. Encoding.ASCII.GetBytes(t + "."), .. body];
        var expected = HMACSHA256.HashData(_secret, signed);
        var valid = v1.Length == 64 && v1 == v1.ToLowerInvariant()
            && CryptographicOperations.FixedTimeEquals(expected, Convert.FromHexString(v1))
            && Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - timestamp) <= 300;
        return (valid, timestamp);
    }

    /// <summary>Waits until <paramref name="condition"/> holds for what has been received; fails the test on timeout.</summary>
    public async Task<IReadOnlyList<ReceivedWebhook>> WaitForAsync(
        Func<IReadOnlyList<ReceivedWebhook>, bool> condition, CancellationToken cancellationToken, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var received = Received;
            if (condition(received))
            {
                return received;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for {what ?? "webhooks"}; received {received.Count}, the last ones: "
                    + string.Join(", ", received.TakeLast(40).Select(r => $"{r.EventType} {r.EventId} -> {r.Answer}")));
            }

            await Task.Delay(25, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }
}
