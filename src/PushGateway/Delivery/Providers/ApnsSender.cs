using PushGateway.Apns;
using PushGateway.Data;

namespace PushGateway.Delivery;

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

        return ApnsOutcomes.Classify(response, environment);
    }

    public ValueTask DisposeAsync() => client.DisposeAsync();
}
