using PushGateway.Hosting;

namespace PushGateway.Messages;

/// <summary>Wakes the delivery workers (this process's at once, other replicas' through NOTIFY) when deliveries were queued or held ones released.</summary>
internal sealed class DeliverySignal(WakeupPublisher? publisher = null) : WorkSignal(WakeupChannels.Deliveries, publisher);
