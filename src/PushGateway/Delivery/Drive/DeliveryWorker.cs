using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using PushGateway.Hosting;
using PushGateway.Messages;

namespace PushGateway.Delivery;

/// <summary>
/// Drains the delivery queue: leases due deliveries in batches (each claim commits at once), sends each through its
/// application's provider client with bounded concurrency per application and per provider, and hands every answer
/// to the <see cref="ResultWriter"/>, which records it within tens of milliseconds. No transaction is open while
/// anything is sent, and a delivery's result never waits for another's request.
/// An application that is slow or failing only fills its own lane: once it has twice its concurrency waiting here, or
/// its requests have gone unanswered for a while (an outage, a hanging connection), the claims skip it until it
/// catches up, so it cannot take this process's capacity from other applications.
/// </summary>
internal sealed class DeliveryWorker(
    DeliveryQueue queue,
    ResultStore results,
    ProviderClients clients,
    DeliverySignal signal,
    DeliveryMetrics metrics,
    MisconfigurationGuard guard,
    IOptions<DeliveryOptions> optionsAccessor,
    IOptions<StaleTokenOptions> staleTokens,
    TimeProvider time,
    ILogger<DeliveryWorker> logger) : BackgroundService
{
    private readonly DeliveryOptions _options = optionsAccessor.Value;
    private readonly ConcurrentDictionary<Guid, Lane> _lanes = new();
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _providerSlots = new();
    private readonly ConcurrentDictionary<Guid, MessageInfo> _messages = new();
    private readonly SemaphoreSlim _capacityFreed = new(0);
    /// <summary>Cancels requests already sent to a provider only when shutdown's grace period is over.</summary>
    private readonly CancellationTokenSource _abortSends = new();
    private ResultWriter _writer = null!;
    /// <summary>Leased deliveries whose result is not yet recorded.</summary>
    private int _inFlight;

    /// <summary>An application that has had requests outstanding for this long with no answer at all is "stalled".</summary>
    internal static readonly TimeSpan StalledAfter = TimeSpan.FromMilliseconds(500);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.WorkersStarted(_options.BatchSize, _options.MaxInFlight);
        _writer = new ResultWriter(results, queue, metrics, _options, time, logger)
        {
            Done = count =>
            {
                Interlocked.Add(ref _inFlight, -count);
                _capacityFreed.Release();
            },
        };
        var cursor = new QueueCursor(time, TimeSpan.FromSeconds(2));
        using var writerStop = new CancellationTokenSource();
        var writers = _writer.RunAsync(writerStop.Token);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (!await ClaimAndSendAsync(cursor, stoppingToken))
                    {
                        continue;
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex)
                {
                    // Database restarts and the like: keep going; rows leased and not sent come back with their lease.
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
            // Sends under way finish (those not started are given back), results are written, then we stop.
            var deadline = DateTimeOffset.UtcNow.AddSeconds(15);
            while (Volatile.Read(ref _inFlight) > 0 && DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(50, CancellationToken.None);
            }

            await _abortSends.CancelAsync();
            _writer.Complete();
            writerStop.CancelAfter(TimeSpan.FromSeconds(15));
            await writers;
        }
    }

    /// <summary>One claim and the sends it starts; false when the loop should look again at once.</summary>
    private async Task<bool> ClaimAndSendAsync(QueueCursor cursor, CancellationToken stoppingToken)
    {
        var capacity = _options.MaxInFlight - Volatile.Read(ref _inFlight);
        if (capacity < Math.Min(_options.BatchSize, _options.MaxInFlight) / 4 + 1)
        {
            await _capacityFreed.WaitAsync(_options.PollInterval, stoppingToken);
            return false;
        }

        var excluded = _lanes
            .Where(l => Volatile.Read(ref l.Value.Waiting) >= 2 * _options.PerApplicationConcurrency || l.Value.IsStalled(time))
            .Select(l => l.Key).ToArray();
        var limit = Math.Min(capacity, _options.BatchSize);
        var fromStart = cursor.AtStart;
        var now = time.UtcNow();
        var claimed = await queue.ClaimAsync(limit, excluded, now, now + _options.LeaseDuration, _writer.Owner, cursor, stoppingToken);
        cursor.AfterClaim(claimed.Count, limit);
        if (claimed.Count == 0)
        {
            if (!fromStart)
            {
                return false; // the cursor was past everything due: look again from the start at once
            }

            if (excluded.Length > 0)
            {
                // Work may be waiting for a busy application: look again as soon as a batch finishes.
                await _capacityFreed.WaitAsync(_options.PollInterval, stoppingToken);
            }
            else
            {
                await signal.WaitAsync(_options.PollInterval, stoppingToken);
            }

            return false;
        }

        IReadOnlyDictionary<Guid, ApplicationState> applications;
        Dictionary<Guid, MessageInfo> messages;
        try
        {
            applications = await clients.GetAsync(claimed.Select(c => c.ApplicationId).Distinct().ToList(), stoppingToken);
            messages = await GetMessagesAsync(claimed, stoppingToken);
        }
        catch
        {
            // Nothing was sent: give the rows back now if the database lets us, else their lease runs out.
            try
            {
                await queue.ReleaseAsync(claimed, _writer.Owner, time.UtcNow(), CancellationToken.None);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                logger.IterationFailed(ex);
            }

            throw;
        }

        Interlocked.Add(ref _inFlight, claimed.Count);
        foreach (var delivery in claimed)
        {
            _ = ProcessAsync(delivery, applications.GetValueOrDefault(delivery.ApplicationId), messages.GetValueOrDefault(delivery.MessageId), stoppingToken);
        }

        return true;
    }

    /// <summary>
    /// Once per trip (the guard marks only the tripping answer): the same push to the same token through the other APNs
    /// environment turns "probably sandbox tokens" into "confirmed". A probe that cannot be made changes nothing.
    /// </summary>
    private async Task<DeliveryOutcome> ProbeAsync(ApplicationState app, DeliveryOutcome.Misconfigured trip, MessageInfo message, string token, CancellationToken stoppingToken)
    {
        try
        {
            if (await clients.CreateProbeSenderAsync(app.Id, stoppingToken) is not { } probe)
            {
                return trip;
            }

            await using (probe.Sender)
            {
                var answer = await probe.Sender.SendAsync(message, token, time.UtcNow(), _abortSends.Token);
                return MisconfigurationGuard.AfterProbe(trip, answer, probe.Environment);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.IterationFailed(ex);
            return trip;
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

    private void Post(DeliveryResult result)
    {
        if (!_writer.Post(result))
        {
            // Only after shutdown gave up waiting: the row comes back when its lease runs out.
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task ProcessAsync(ClaimedDelivery delivery, ApplicationState? app, MessageInfo? message, CancellationToken stoppingToken)
    {
        var checkedAt = time.UtcNow();
        var stale = app is not null && delivery.TokenUpdatedAt is { } confirmed && StaleTokenPolicy.IsStale(app.Platform, confirmed, staleTokens.Value, checkedAt);
        var early = PreSendCheck.Decide(delivery, app is not null, app?.Enabled ?? false, message is not null, checkedAt, stale);
        if (early is not null)
        {
            Post(early);
            return;
        }

        var lane = _lanes.GetOrAdd(app!.Id, _ => new Lane(_options.PerApplicationConcurrency));
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

            var now = time.UtcNow();
            if (!PreSendCheck.LeaseAllowsSending(delivery.LeasedUntil, now, _options.RequestTimeout))
            {
                // It waited so long for a slot that its answer might come after the lease: another worker could be
                // sending it by then. Give it back instead.
                Post(PreSendCheck.GiveBack(delivery, now));
                return;
            }

            DeliveryOutcome outcome;
            var started = time.GetTimestamp();
            lane.Sending(started);
            try
            {
                // Not the stopping token: a request on its way is allowed to finish during shutdown, so that its
                // answer is recorded rather than the notification sent twice.
                outcome = await app.Sender.SendAsync(message!, delivery.Token!, now, _abortSends.Token);
            }
            catch (OperationCanceledException) when (_abortSends.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                // The request could not even be built (a value the provider's protocol cannot carry…): that is this
                // one delivery's problem, for good. Retrying would only fail the same way, or worse, take a
                // connection and everything in flight on it down again and again.
                outcome = new DeliveryOutcome.Rejected(null, "internal: request could not be built (" + ex.GetType().Name + ")");
            }
            finally
            {
                lane.Answered(time.GetTimestamp());
            }

            metrics.ProviderRequest(app.Sender.Provider, time.GetElapsedTime(started));
            var answeredAt = time.UtcNow();
            outcome = guard.Review(app.Id, app.CredentialsVersion, outcome, answeredAt);
            if (outcome is DeliveryOutcome.Misconfigured { IsTrip: true, Reason: "BadDeviceToken" } trip)
            {
                outcome = await ProbeAsync(app, trip, message!, delivery.Token!, stoppingToken);
                answeredAt = time.UtcNow();
            }

            var result = OutcomeTable.Apply(delivery, app.Id, app.CredentialsVersion, outcome, message!.TtlSeconds, answeredAt, Random.Shared.NextDouble(), _options);
            result.Platform = app.Platform;
            result.AcceptedAt = message.CreatedAt;
            Post(result);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down before it was sent (or past the grace period): give it back at once.
            Post(PreSendCheck.GiveBack(delivery, time.UtcNow()));
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
}
