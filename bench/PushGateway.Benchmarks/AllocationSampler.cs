using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace PushGateway.Benchmarks;

/// <summary>
/// Counts the runtime's GC allocation-tick events (one about every 100 KB allocated) by type, to see what a run
/// allocates without an external profiler (<c>--alloc-profile 1</c>).
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private readonly ConcurrentDictionary<string, long> _samples = new(StringComparer.Ordinal);
    private volatile bool _recording;

    public void Start() => _recording = true;

    public IEnumerable<KeyValuePair<string, long>> Stop(int top)
    {
        _recording = false;
        return _samples.OrderByDescending(s => s.Value).Take(top);
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_recording || eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true
            || eventData.PayloadNames is null || eventData.Payload is null)
        {
            return;
        }

        var name = eventData.Payload[eventData.PayloadNames.IndexOf("TypeName")] as string ?? "?";
        var sizeIndex = eventData.PayloadNames.IndexOf("ObjectSize");
        if (name == "System.Byte[]" && sizeIndex >= 0)
        {
            name = $"System.Byte[{eventData.Payload[sizeIndex]} B]";
        }

        _samples.AddOrUpdate(name, 1, static (_, count) => count + 1);
    }
}
