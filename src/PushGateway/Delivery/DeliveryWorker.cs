using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using PushGateway.Data;
using PushGateway.Hosting;
using PushGateway.Messages;

namespace PushGateway.Delivery;

/// <summary>
/// Drains the delivery queue: claims due deliveries in batches, sends each through its application's provider
/// client with bounded concurrency per application and per provider, and writes the results back in batches.
/// An application that is slow or failing only fills its own lane: once it has twice its concurrency waiting here, or
/// its requests have gone unanswered for a while (an outage, a hanging connection), the claims skip it until it
/// catches up, so the batches (and database connections) it holds do not keep other applications waiting.
/// </summary>
internal sealed class DeliveryWorker(
    DeliveryQueue queue,
    ProviderClients clients,
    DeliverySignal signal,
    DeliveryMetrics metrics,
    IOptions<DeliveryOptions> optionsAccessor,
    TimeProvider time,
    ILogger<DeliveryWorker> logger) : BackgroundService
{
    private readonly DeliveryOptions _options = optionsAccessor.Value;
    private readonly Channel<ClaimedBatch> _completed = Channel.CreateUnbounded<ClaimedBatch>();
    private readonly ConcurrentDictionary<Guid, Lane> _lanes = new();
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _providerSlots = new();
    private readonly ConcurrentDictionary<Guid, MessageInfo> _messages = new();
    private readonly SemaphoreSlim _capacityFreed = new(0);
    /// <summary>Cancels requests already sent to a provider only when shutdown's grace period is over.</summary>
    private readonly CancellationTokenSource _abortSends = new();
    private int _inFlight;
    /// <summary>Claimed batches not yet written and disposed: each holds a database connection.</summary>
    private int _openBatches;

    /// <summary>An application that has had requests outstanding for this long with no answer at all is "stalled".</summary>
    internal static readonly TimeSpan StalledAfter = TimeSpan.FromMilliseconds(500);

    private sealed class Lane(int concurrency)
    {
        private readonly Lock _lock = new();
        private int _outstanding;
        private long _lastProgress;

        public SemaphoreSlim Slots { get; } = new(concurrency, concurrency);
        public int Waiting;

        public void Sending(long now)
        {
            lock (_lock)
            {
                if (_outstanding++ == 0)
                {
                    _lastProgress = now;
                }
            }
        }

        public void Answered(long now)
        {
            lock (_lock)
            {
                _outstanding--;
                _lastProgress = now;
            }
        }

        /// <summary>
        /// Requests are outstanding and none has been answered (or timed out) for <see cref="StalledAfter"/>: a
        /// provider outage or a hanging connection. New claims leave this application's rows in the queue, so that
        /// batches holding its requests (and the connections they hold) do not pile up while other applications wait.
        /// </summary>
        public bool IsStalled(TimeProvider time)
        {
            lock (_lock)
            {
                return _outstanding > 0 && time.GetElapsedTime(_lastProgress) > StalledAfter;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.WorkersStarted(_options.BatchSize, _options.MaxInFlight);
        var cursor = new QueueCursor(time, TimeSpan.FromSeconds(2));
        using var writerStop = new CancellationTokenSource();
        var writers = Task.WhenAll(Enumerable.Range(0, _options.ResultWriters).Select(_ => Task.Run(() => WriteLoopAsync(writerStop.Token), CancellationToken.None)));
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    var capacity = _options.MaxInFlight - Volatile.Read(ref _inFlight);
                    if (capacity < Math.Min(_options.BatchSize, _options.MaxInFlight) / 4 + 1
                        || Volatile.Read(ref _openBatches) >= _options.MaxOpenBatches)
                    {
                        await _capacityFreed.WaitAsync(_options.PollInterval, stoppingToken);
                        continue;
                    }

                    var excluded = _lanes
                        .Where(l => Volatile.Read(ref l.Value.Waiting) >= 2 * _options.PerApplicationConcurrency || l.Value.IsStalled(time))
                        .Select(l => l.Key).ToArray();
                    var limit = Math.Min(capacity, _options.BatchSize);
                    var fromStart = cursor.AtStart;
                    var batch = await queue.ClaimAsync(limit, excluded, time.UtcNow(), cursor, stoppingToken);
                    cursor.AfterClaim(batch?.Items.Count ?? 0, limit);
                    if (batch is null && !fromStart)
                    {
                        continue; // the cursor was past everything due: look again from the start at once
                    }

                    if (batch is null)
                    {
                        if (excluded.Length > 0)
                        {
                            // Work may be waiting for a busy application: look again as soon as a batch finishes.
                            await _capacityFreed.WaitAsync(_options.PollInterval, stoppingToken);
                        }
                        else
                        {
                            await signal.WaitAsync(_options.PollInterval, stoppingToken);
                        }

                        continue;
                    }

                    Interlocked.Add(ref _inFlight, batch.Items.Count);
                    Interlocked.Increment(ref _openBatches);
                    batch.ClaimedAt = System.Diagnostics.Stopwatch.GetTimestamp();
                    try
                    {
                        var applications = await clients.GetAsync(batch.Items.Select(c => c.ApplicationId).Distinct().ToList(), stoppingToken);
                        var messages = await GetMessagesAsync(batch.Items, stoppingToken);
                        for (var i = 0; i < batch.Items.Count; i++)
                        {
                            var delivery = batch.Items[i];
                            _ = ProcessAsync(batch, i, applications.GetValueOrDefault(delivery.ApplicationId), messages.GetValueOrDefault(delivery.MessageId), stoppingToken);
                        }
                    }
                    catch
                    {
                        // Nothing was sent: roll back, the rows are due again.
                        Interlocked.Add(ref _inFlight, -batch.Items.Count);
                        await batch.DisposeAsync();
                        Interlocked.Decrement(ref _openBatches);
                        throw;
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex)
                {
                    // Database restarts and the like: keep going; claimed rows were released with their transaction.
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
            // Sends under way finish (those not started give their rows back), batches are written, then we stop.
            var deadline = DateTimeOffset.UtcNow.AddSeconds(15);
            while (Volatile.Read(ref _inFlight) > 0 && DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(50, CancellationToken.None);
            }

            await _abortSends.CancelAsync();

            _completed.Writer.TryComplete();
            writerStop.CancelAfter(TimeSpan.FromSeconds(15));
            await writers;
        }
    }

    private async Task<Dictionary<Guid, MessageInfo>> GetMessagesAsync(List<ClaimedDelivery> claimed, CancellationToken cancellationToken)
    {
        var result = new Dictionary<Guid, MessageInfo>();
        var missing = new List<Guid>();
        foreach (var id in claimed.Select(c => c.MessageId).Distinct())
        {
            if (_messages.TryGetValue(id, out var info))
            {
                result[id] = info;
            }
            else
            {
                missing.Add(id);
            }
        }

        if (missing.Count > 0)
        {
            if (_messages.Count > 10_000)
            {
                _messages.Clear();
            }

            foreach (var (id, info) in await queue.LoadMessagesAsync(missing, cancellationToken))
            {
                _messages[id] = info;
                result[id] = info;
            }
        }

        return result;
    }

    private async Task ProcessAsync(ClaimedBatch batch, int index, ApplicationState? app, MessageInfo? message, CancellationToken stoppingToken)
    {
        var delivery = batch.Items[index];
        void Post(DeliveryResult result)
        {
            if (batch.Complete(index, result) && !_completed.Writer.TryWrite(batch))
            {
                // Only after shutdown gave up waiting: the transaction rolls back and the rows are due again.
                Interlocked.Add(ref _inFlight, -batch.Items.Count);
                Interlocked.Decrement(ref _openBatches);
                _ = batch.DisposeAsync().AsTask();
            }
        }

        var now = time.UtcNow();
        // The claim counted an attempt; these outcomes did not make one.
        var notAttempted = delivery.Attempts - 1;
        if (delivery.Token is null || !delivery.EndpointEnabled || app is null || message is null)
        {
            var why = delivery.Token is null ? "endpoint deleted" : !delivery.EndpointEnabled ? "endpoint disabled" : app is null ? "application deleted" : "message deleted";
            Post(new DeliveryResult(delivery, DeliveryStates.Skipped, notAttempted, now, null, now, null, why, null));
            return;
        }

        if (now >= delivery.ExpiresAt)
        {
            Post(new DeliveryResult(delivery, DeliveryStates.Expired, notAttempted, now, null, now, null, "ttl expired before sending", null));
            return;
        }

        if (!app.Enabled)
        {
            Post(new DeliveryResult(delivery, DeliveryStates.Held, notAttempted, delivery.ExpiresAt, null, null, null, null, null));
            return;
        }

        var lane = _lanes.GetOrAdd(app.Id, _ => new Lane(_options.PerApplicationConcurrency));
        var providerSlots = _providerSlots.GetOrAdd(app.Sender.Provider, _ => new SemaphoreSlim(_options.PerProviderConcurrency, _options.PerProviderConcurrency));
        Interlocked.Increment(ref lane.Waiting);
        var laneTaken = false;
        var providerTaken = false;
        try
        {
            await lane.Slots.WaitAsync(stoppingToken);
            laneTaken = true;
            await providerSlots.WaitAsync(stoppingToken);
            providerTaken = true;

            now = time.UtcNow();
            DeliveryOutcome outcome;
            var started = time.GetTimestamp();
            lane.Sending(started);
            try
            {
                // Not the stopping token: a request on its way is allowed to finish during shutdown, so that its
                // answer is recorded rather than the notification sent twice.
                outcome = await app.Sender.SendAsync(message, delivery.Token, now, _abortSends.Token);
            }
            catch (OperationCanceledException) when (_abortSends.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                outcome = new DeliveryOutcome.Retry(null, "internal: " + ex.GetType().Name, null);
            }
            finally
            {
                lane.Answered(time.GetTimestamp());
            }

            metrics.ProviderRequest(app.Sender.Provider, time.GetElapsedTime(started));
            Post(ToResult(delivery, app, message, outcome, time.UtcNow()));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down before it was sent (or past the grace period): give it back at once.
            Post(new DeliveryResult(delivery, DeliveryStates.Pending, notAttempted, time.UtcNow(), null, null, null, null, null));
        }
        finally
        {
            if (providerTaken)
            {
                providerSlots.Release();
            }

            if (laneTaken)
            {
                lane.Slots.Release();
            }

            Interlocked.Decrement(ref lane.Waiting);
        }
    }

    private DeliveryResult ToResult(ClaimedDelivery d, ApplicationState app, MessageInfo message, DeliveryOutcome outcome, DateTimeOffset now)
    {
        var result = Map(d, app, message, outcome, now);
        result.Platform = app.Platform;
        result.AcceptedAt = message.CreatedAt;
        return result;
    }

    private DeliveryResult Map(ClaimedDelivery d, ApplicationState app, MessageInfo message, DeliveryOutcome outcome, DateTimeOffset now)
    {
        switch (outcome)
        {
            case DeliveryOutcome.Delivered delivered:
                return new DeliveryResult(d, DeliveryStates.Delivered, d.Attempts, now, now, now, delivered.Status, null, delivered.ProviderId)
                {
                    ProviderUniqueId = delivered.UniqueId,
                };
            case DeliveryOutcome.TokenDead dead:
                return new DeliveryResult(d, DeliveryStates.Failed, d.Attempts, now, now, now, dead.Status, dead.Reason, null,
                    DisableEndpoint: new EndpointDisable(d.EndpointId, d.Token!, dead.DisabledReason, dead.Timestamp));
            case DeliveryOutcome.Rejected rejected:
                return new DeliveryResult(d, DeliveryStates.Failed, d.Attempts, now, now, now, rejected.Status, rejected.Reason, null);
            case DeliveryOutcome.CredentialsFailed credentials:
                return new DeliveryResult(d, DeliveryStates.Held, d.Attempts, d.ExpiresAt, now, null, credentials.Status, credentials.Reason, null,
                    DisableApplication: new ApplicationDisable(app.Id, app.CredentialsVersion, credentials.DisabledReason));
            case DeliveryOutcome.Retry retry:
            {
                if (message.TtlSeconds == 0)
                {
                    // "Now or never": there is no later.
                    return new DeliveryResult(d, DeliveryStates.Expired, d.Attempts, now, now, now, retry.Status, retry.Reason, null);
                }

                // Immediate retries (a fresh provider token) count against the same attempt limit as the others.
                if (d.Attempts >= _options.MaxAttempts)
                {
                    return new DeliveryResult(d, DeliveryStates.Failed, d.Attempts, now, now, now, retry.Status, retry.Reason, null);
                }

                var next = now + (retry.Immediately ? TimeSpan.Zero : RetryDelay(d.Attempts, retry.After));
                return next >= d.ExpiresAt
                    ? new DeliveryResult(d, DeliveryStates.Expired, d.Attempts, now, now, now, retry.Status, retry.Reason, null)
                    : new DeliveryResult(d, DeliveryStates.Pending, d.Attempts, next, now, null, retry.Status, retry.Reason, null);
            }

            default:
                throw new InvalidOperationException("Unknown outcome " + outcome.GetType().Name);
        }
    }

    /// <summary>Retry-After when the provider gave one; otherwise exponential backoff with jitter (half to full delay).</summary>
    internal TimeSpan RetryDelay(int attempts, TimeSpan? retryAfter)
    {
        if (retryAfter is { } after && after > TimeSpan.Zero)
        {
            return after;
        }

        var exponential = _options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Max(0, attempts - 1));
        var capped = Math.Min(exponential, _options.RetryMaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + Random.Shared.NextDouble() / 2));
    }

    private async Task WriteLoopAsync(CancellationToken stop)
    {
        try
        {
            await foreach (var batch in _completed.Reader.ReadAllAsync(stop))
            {
                await using (batch)
                {
                    try
                    {
                        var writing = System.Diagnostics.Stopwatch.GetTimestamp();
                        Report(await queue.CompleteAsync(batch, time.UtcNow(), stop));
                        if (logger.IsEnabled(LogLevel.Debug))
                        {
                            logger.BatchWritten(batch.Items.Count,
                                System.Diagnostics.Stopwatch.GetElapsedTime(batch.ClaimedAt, batch.SentAt).TotalMilliseconds,
                                System.Diagnostics.Stopwatch.GetElapsedTime(batch.SentAt, writing).TotalMilliseconds,
                                System.Diagnostics.Stopwatch.GetElapsedTime(writing).TotalMilliseconds);
                        }
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                        throw;
                    }
                    catch (Exception ex)
                    {
                        // The database went away mid-batch: the transaction is gone and its rows are due again (the ones
                        // already sent will be sent again: at least once).
                        logger.ResultWriteFailed(batch.Items.Count, ex);
                    }
                }

                Interlocked.Add(ref _inFlight, -batch.Items.Count);
                Interlocked.Decrement(ref _openBatches);
                _capacityFreed.Release();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Shutdown grace is over; what was not written rolls back and is sent again later.
        }
    }

    private void Report(WriteSummary summary)
    {
        foreach (var r in summary.Written)
        {
            metrics.Recorded(r);
        }

        foreach (var (endpointId, token, reason) in summary.EndpointsDisabled)
        {
            logger.EndpointDisabled(endpointId, DeliveryLog.TokenHash(token), reason);
            metrics.EndpointDisabled(reason);
        }

        foreach (var (endpointId, token, reason) in summary.EndpointsKept)
        {
            logger.EndpointKept(endpointId, DeliveryLog.TokenHash(token), reason);
        }

        foreach (var (applicationId, reason) in summary.ApplicationsDisabled)
        {
            logger.ApplicationDisabled(applicationId, reason);
            metrics.ApplicationDisabled();
        }
    }
}

/// <summary>Releases held deliveries of fixed applications and expires those whose TTL ran out.</summary>
internal sealed class DeliverySweeper(DeliveryQueue queue, DeliverySignal signal, IOptions<DeliveryOptions> options, TimeProvider time, ILogger<DeliverySweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var (released, expired) = await queue.SweepAsync(time.UtcNow(), stoppingToken);
                if (released + expired > 0)
                {
                    logger.Swept(released, expired);
                }

                if (released > 0)
                {
                    signal.Notify();
                }

                await Task.Delay(options.Value.SweepInterval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
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
}
