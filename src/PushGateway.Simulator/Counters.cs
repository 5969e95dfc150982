using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace PushGateway.Simulator;

/// <summary>Live counters; the hot path only does Interlocked increments on them.</summary>
internal sealed class CounterSet
{
    public long ApnsRequests;
    public long ApnsAccepted;
    public long ApnsRejected;
    public long ApnsConnectionsOpened;
    public long ApnsGoAwaysSent;
    public long ApnsMaxConcurrentStreamsObserved;
    public readonly ConcurrentDictionary<string, StrongBox<long>> ApnsByReason = new(StringComparer.Ordinal);

    public long FcmRequests;
    public long FcmAccepted;
    public long FcmRejected;
    public long FcmTokenRequests;
    public long FcmTokensIssued;
    public readonly ConcurrentDictionary<string, StrongBox<long>> FcmByErrorCode = new(StringComparer.Ordinal);

    public static void Increment(ConcurrentDictionary<string, StrongBox<long>> map, string key)
    {
        if (!map.TryGetValue(key, out var box))
        {
            box = map.GetOrAdd(key, static _ => new StrongBox<long>());
        }

        Interlocked.Increment(ref box.Value);
    }

    public void ObserveConcurrentStreams(long inFlight)
    {
        var seen = Volatile.Read(ref ApnsMaxConcurrentStreamsObserved);
        while (inFlight > seen)
        {
            var previous = Interlocked.CompareExchange(ref ApnsMaxConcurrentStreamsObserved, inFlight, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }

    public SimulatorCounters Snapshot() => new(
        new ApnsCounters
        {
            Requests = Interlocked.Read(ref ApnsRequests),
            Accepted = Interlocked.Read(ref ApnsAccepted),
            Rejected = Interlocked.Read(ref ApnsRejected),
            ByReason = Copy(ApnsByReason),
            ConnectionsOpened = Interlocked.Read(ref ApnsConnectionsOpened),
            GoAwaysSent = Interlocked.Read(ref ApnsGoAwaysSent),
            MaxConcurrentStreamsObserved = Interlocked.Read(ref ApnsMaxConcurrentStreamsObserved),
        },
        new FcmCounters
        {
            Requests = Interlocked.Read(ref FcmRequests),
            Accepted = Interlocked.Read(ref FcmAccepted),
            Rejected = Interlocked.Read(ref FcmRejected),
            ByErrorCode = Copy(FcmByErrorCode),
            TokenRequests = Interlocked.Read(ref FcmTokenRequests),
            TokensIssued = Interlocked.Read(ref FcmTokensIssued),
        });

    private static SortedDictionary<string, long> Copy(ConcurrentDictionary<string, StrongBox<long>> map)
    {
        var copy = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, box) in map)
        {
            copy[key] = Interlocked.Read(ref box.Value);
        }

        return copy;
    }
}
