using PushGateway.Hosting;

namespace PushGateway.Events;

/// <summary>Wakes this process's webhook dispatcher when there is new work (a retried event, a finished head of line).</summary>
internal sealed class EventSignal : WorkSignal;
