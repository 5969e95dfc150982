using Microsoft.Extensions.Options;
using PushGateway.Hosting;

namespace PushGateway.Messages;

/// <summary>
/// Turns accepted fan-outs into deliveries after their 202, one batch per transaction (<see cref="ExpansionStore"/>),
/// waking the delivery workers after each. Every replica runs one; they share the work message by message (a row
/// being expanded is skipped by the others), and a replica that dies mid-expansion leaves the cursor at its last
/// committed batch for the next one to continue from.
/// </summary>
internal sealed class FanOutExpander(
    ExpansionStore store, ExpansionSignal signal, DeliverySignal deliverySignal, IOptions<ExpansionOptions> options, TimeProvider time, ILogger<FanOutExpander> logger)
    : BackgroundService
{
    private static readonly TimeSpan BacklogRecheck = TimeSpan.FromMilliseconds(50);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var next = o.BatchSize;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var batch = await store.ExpandNextAsync(next, time.UtcNow(), stoppingToken);
                next = o.BatchSize;
                if (batch is null)
                {
                    await signal.WaitAsync(o.PollInterval, stoppingToken);
                    continue;
                }

                if (batch.Pending > 0)
                {
                    deliverySignal.Notify();
                }

                if (batch.Done)
                {
                    logger.Expanded(batch.MessageId, batch.TargetCount, batch.Batches);
                }

                if (o.BatchPause > TimeSpan.Zero)
                {
                    await Task.Delay(o.BatchPause, time, stoppingToken);
                }

                // Backpressure (ExpansionOptions.MaxQueuedAhead): the next batch waits until the workers have taken
                // enough of the due backlog, and tops it up to the bound, no further.
                if (o.MaxQueuedAhead > 0)
                {
                    int room;
                    while ((room = o.MaxQueuedAhead - await store.DueBacklogAsync(o.MaxQueuedAhead, time.UtcNow(), stoppingToken))
                           < Math.Min(o.BatchSize, o.MaxQueuedAhead) / 4 + 1)
                    {
                        await Task.Delay(BacklogRecheck, time, stoppingToken);
                    }

                    next = Math.Min(o.BatchSize, room);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                logger.ExpansionFailed(ex);
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
