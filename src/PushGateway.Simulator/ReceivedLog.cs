namespace PushGateway.Simulator;

/// <summary>The received list: a bounded FIFO, oldest dropped first.</summary>
internal sealed class ReceivedLog
{
    private readonly Lock _lock = new();
    private readonly Queue<ReceivedRequest> _items = new();

    public void Add(ReceivedRequest item, int capacity)
    {
        lock (_lock)
        {
            _items.Enqueue(item);
            TrimLocked(capacity);
        }
    }

    public void Trim(int capacity)
    {
        lock (_lock)
        {
            TrimLocked(capacity);
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _items.Clear();
        }
    }

    /// <summary>The newest <paramref name="limit"/> matching items, oldest first; <c>Total</c> counts every match.</summary>
    public ReceivedPage Query(string? platform, string? token, int limit)
    {
        List<ReceivedRequest> matches;
        lock (_lock)
        {
            matches = new List<ReceivedRequest>(platform is null && token is null ? _items.Count : 16);
            foreach (var item in _items)
            {
                if ((platform is null || string.Equals(item.Platform, platform, StringComparison.OrdinalIgnoreCase))
                    && (token is null || string.Equals(item.Token, token, StringComparison.Ordinal)))
                {
                    matches.Add(item);
                }
            }
        }

        var total = matches.Count;
        if (limit >= 0 && matches.Count > limit)
        {
            matches.RemoveRange(0, matches.Count - limit);
        }

        return new ReceivedPage(matches, total);
    }

    private void TrimLocked(int capacity)
    {
        while (_items.Count > Math.Max(0, capacity))
        {
            _items.Dequeue();
        }
    }
}
