using PushGateway.Hosting;

namespace PushGateway.Messages;

/// <summary>Wakes this process's delivery workers when it queued deliveries or released held ones.</summary>
internal sealed class DeliverySignal : WorkSignal;
