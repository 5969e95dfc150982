using PushGateway.Hosting;

namespace PushGateway.Messages;

/// <summary>Wakes the <see cref="FanOutExpander"/>s (this process's at once, other replicas' through NOTIFY) when a fan-out was accepted.</summary>
internal sealed class ExpansionSignal(WakeupPublisher? publisher = null) : WorkSignal(WakeupChannels.Expansions, publisher);
