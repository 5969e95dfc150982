using System.Text.Json.Nodes;
using PushGateway.Data;
using PushGateway.Fcm;

namespace PushGateway.Delivery;

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
        return FcmOutcomes.Classify(response);
    }

    public ValueTask DisposeAsync()
    {
        client.Dispose();
        return ValueTask.CompletedTask;
    }
}
