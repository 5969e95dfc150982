using PushGateway.Hosting;

namespace PushGateway.Events;

/// <summary>
/// Wakes the webhook dispatchers (this process's at once, other replicas' through NOTIFY) when there is new work: an
/// event written, a retried event, a finished head of line.
/// </summary>
internal sealed class EventSignal(WakeupPublisher? publisher = null) : WorkSignal(WakeupChannels.Events, publisher);
