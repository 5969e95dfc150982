using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using PushGateway.Data;
using PushGateway.Hosting;

namespace PushGateway.Events;

/// <summary>
/// Delivers the <c>events</c> outbox to each application's webhook: at least once, in order per endpoint, retried with
/// backoff until the retry window is over. It runs on its own connection pool and HTTP client, with bounded
/// concurrency overall and per application: a slow or dead webhook holds at most its own few slots (and is not
/// claimed for while they are taken), so it never delays other applications' webhooks, the API or delivery.
/// </summary>
internal sealed class WebhookDispatcher(
    EventStore store,
    WebhookSender sender,
    WebhookSecrets secrets,
    EventSignal signal,
    WebhookMetrics metrics,
    IOptions<EventsOptions> optionsAccessor,
    TimeProvider time,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    private readonly EventsOptions _options = optionsAccessor.Value;
    private readonly Channel<EventResult> _results = Channel.CreateUnbounded<EventResult>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<Guid, Lane> _lanes = new();
    private readonly SemaphoreSlim _capacityFreed = new(0);
    private int _inFlight;

    /// <summary>One application's share: <see cref="Slots"/> requests at once, and as many claimed events waiting.</summary>
    private sealed class Lane(int concurrency)
    {
        public SemaphoreSlim Slots { get; } = new(concurrency, concurrency);

        /// <summary>Claimed by this process and not yet written back.</summary>
        public int Held;
    }

    private int LaneCapacity => 2 * _options.PerApplicationConcurrency;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.DispatcherStarted(_options.MaxConcurrency, _options.PerApplicationConcurrency, _options.RequestTimeout, _options.RetryWindow);
        using var writerStop = new CancellationTokenSource();
        var writer = Task.Run(() => WriteLoopAsync(writerStop.Token), CancellationToken.None);
        var sends = new ConcurrentDictionary<Task, byte>();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    var capacity = _options.MaxConcurrency - Volatile.Read(ref _inFlight);
                    if (capacity <= 0)
                    {
                        await _capacityFreed.WaitAsync(_options.PollInterval, stoppingToken);
                        continue;
                    }

                    var quotas = new Dictionary<Guid, int>();
                    foreach (var (applicationId, lane) in _lanes)
                    {
                        var held = Volatile.Read(ref lane.Held);
                        if (held > 0)
                        {
                            quotas[applicationId] = LaneCapacity - held;
                        }
                    }

                    var full = quotas.Where(q => q.Value <= 0).Select(q => q.Key).ToArray();
                    var scan = Math.Min(_options.BatchSize, capacity);
                    var claim = await store.ClaimAsync(scan, LaneCapacity, quotas, full, time.UtcNow(), _options.LeaseDuration, stoppingToken);
                    metrics.Outcome(WebhookMetrics.Skipped, claim.Skipped);
                    if (claim.Examined > 0)
                    {
                        logger.Claimed(claim.Send.Count, claim.Skipped, claim.Parked);
                    }

                    foreach (var e in claim.Send)
                    {
                        Interlocked.Increment(ref _inFlight);
                        var lane = _lanes.GetOrAdd(e.ApplicationId, _ => new Lane(_options.PerApplicationConcurrency));
                        Interlocked.Increment(ref lane.Held);
                        var send = ProcessAsync(e, lane, stoppingToken);
                        if (!send.IsCompleted)
                        {
                            sends.TryAdd(send, 0);
                            _ = send.ContinueWith(t => sends.TryRemove(t, out _), TaskScheduler.Default);
                        }
                    }

                    if (claim.Examined < scan)
                    {
                        // Nothing else is due: wait for the next poll, or for a finished head of line to wake its successor.
                        await signal.WaitAsync(_options.PollInterval, stoppingToken);
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex)
                {
                    // The database restarting and the like: keep going; claimed rows come back when their lease runs out.
                    logger.IterationFailed(ex);
                    try
                    {
                        await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }
            }
        }
        finally
        {
            // Sends under way are cancelled by the stopping token and give their events back; then flush the results.
            await Task.WhenAny(Task.WhenAll(sends.Keys), Task.Delay(TimeSpan.FromSeconds(15), CancellationToken.None));
            _results.Writer.TryComplete();
            writerStop.CancelAfter(TimeSpan.FromSeconds(15));
            await writer;
        }
    }

    private async Task ProcessAsync(ClaimedEvent e, Lane lane, CancellationToken stoppingToken)
    {
        var taken = false;
        try
        {
            await lane.Slots.WaitAsync(stoppingToken);
            taken = true;

            var now = time.UtcNow();
            if (now > e.Lease - _options.LeaseDuration / 4)
            {
                // Waited for a slot so long that the lease is nearly over: leave it to the next claim.
                Post(GiveBack(e, now));
                return;
            }

            WebhookAttempt attempt;
            byte[]? key = null;
            try
            {
                key = secrets.Get(e.ApplicationId, e.SecretCiphertext);
            }
            catch (CryptographicException)
            {
                logger.SecretUnusable(e.ApplicationId);
            }

            if (key is null)
            {
                attempt = new WebhookAttempt.Failed("webhook secret cannot be decrypted");
            }
            else
            {
                var started = time.GetTimestamp();
                try
                {
                    attempt = await sender.SendAsync(e, key, stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    throw;
                }
                catch (Exception ex)
                {
                    attempt = new WebhookAttempt.Failed("internal error: " + ex.GetType().Name);
                }

                metrics.Request(time.GetElapsedTime(started));
            }

            Post(ToResult(e, attempt, time.UtcNow(), _options, Random.Shared.NextDouble()));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down before an answer came: give it back at once (the receiver may still have got it: at least once).
            Post(GiveBack(e, time.UtcNow()));
        }
        finally
        {
            if (taken)
            {
                lane.Slots.Release();
            }
        }
    }

    /// <summary>Back to pending as if it had not been claimed (the claim counted an attempt that was not made).</summary>
    private static EventResult GiveBack(ClaimedEvent e, DateTimeOffset now) =>
        new(e, EventStates.Pending, e.Attempts - 1, now, null, null);

    /// <summary>
    /// 2xx: delivered. Anything else: tried again after <see cref="WebhookBackoff"/> (or <c>Retry-After</c>) until the
    /// retry window after the event's creation is over, then failed. <paramref name="random"/> is the jitter, in [0, 1).
    /// </summary>
    internal static EventResult ToResult(ClaimedEvent e, WebhookAttempt attempt, DateTimeOffset now, EventsOptions options, double random)
    {
        switch (attempt)
        {
            case WebhookAttempt.Delivered:
                return new EventResult(e, EventStates.Delivered, e.Attempts, now, now, null);
            case WebhookAttempt.Failed failed:
            {
                var deadline = e.CreatedAt + options.RetryWindow;
                if (now >= deadline)
                {
                    return new EventResult(e, EventStates.Failed, e.Attempts, now, now, failed.Error);
                }

                var next = now + WebhookBackoff.Delay(e.Attempts, failed.RetryAfter, options.RetryBaseDelay, options.RetryMaxDelay, random);
                // The last attempt is made when the window closes, not skipped because a long backoff overshoots it.
                return new EventResult(e, EventStates.Pending, e.Attempts, next < deadline ? next : deadline, null, failed.Error);
            }

            default:
                throw new InvalidOperationException("Unknown attempt " + attempt.GetType().Name);
        }
    }

    private void Post(EventResult result)
    {
        if (!_results.Writer.TryWrite(result))
        {
            // Only after shutdown completed the channel; the lease brings the row back.
            Release(result);
        }
    }

    private void Release(EventResult result)
    {
        if (_lanes.TryGetValue(result.Event.ApplicationId, out var lane))
        {
            Interlocked.Decrement(ref lane.Held);
        }

        Interlocked.Decrement(ref _inFlight);
    }

    private async Task WriteLoopAsync(CancellationToken stop)
    {
        var batch = new List<EventResult>();
        try
        {
            while (await _results.Reader.WaitToReadAsync(stop))
            {
                batch.Clear();
                while (batch.Count < 500 && _results.Reader.TryRead(out var result))
                {
                    batch.Add(result);
                }

                while (true)
                {
                    try
                    {
                        Report(await store.WriteAsync(batch, time.UtcNow(), stop));
                        break;
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                        throw;
                    }
                    catch (Exception ex)
                    {
                        // The database may be restarting: keep the results and try again.
                        logger.ResultWriteFailed(batch.Count, ex);
                        await Task.Delay(TimeSpan.FromSeconds(1), time, stop);
                    }
                }

                foreach (var result in batch)
                {
                    Release(result);
                }

                _capacityFreed.Release();
                if (batch.Any(r => r.State != EventStates.Pending))
                {
                    // A finished head of line has woken its successor: claim it now rather than at the next poll.
                    signal.Notify();
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Shutdown grace is over; unwritten results come back through their leases.
        }
    }

    private void Report(List<EventResult> written)
    {
        foreach (var r in written)
        {
            var e = r.Event;
            switch (r.State)
            {
                case EventStates.Delivered:
                    metrics.Outcome(WebhookMetrics.Delivered);
                    logger.Delivered(e.Id, e.Type, e.ApplicationId, r.Attempts);
                    break;
                case EventStates.Failed:
                    metrics.Outcome(WebhookMetrics.Failed);
                    logger.FailedForGood(e.Id, e.Type, e.ApplicationId, r.Attempts, r.Error ?? "");
                    break;
                case EventStates.Pending when r.Error is not null:
                    metrics.Outcome(WebhookMetrics.Retried);
                    logger.WillRetry(e.Id, e.Type, e.ApplicationId, r.Error, r.Attempts, r.NextAttemptAt);
                    break;
            }
        }
    }
}
