using PushGateway.Hosting;

namespace PushGateway.Messages;

/// <summary>Wakes this process's <see cref="FanOutExpander"/> when it accepted a fan-out.</summary>
internal sealed class ExpansionSignal : WorkSignal;
