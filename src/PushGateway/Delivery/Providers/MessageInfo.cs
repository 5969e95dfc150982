using System.Text.Json.Nodes;
using PushGateway.Apns;

namespace PushGateway.Delivery;

/// <summary>A message's payloads as the workers need them (cached per message while its deliveries drain).</summary>
internal sealed record MessageInfo(
    Guid Id,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    int TtlSeconds,
    byte[] ApnsPayload,
    ApnsPushType ApnsPushType,
    int ApnsPriority,
    string? ApnsTopic,
    string? CollapseKey,
    JsonObject FcmMessage);
