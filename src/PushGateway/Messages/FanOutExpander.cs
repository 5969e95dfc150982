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
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var batch = await store.ExpandNextAsync(o.BatchSize, time.UtcNow(), stoppingToken);
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

                // Backpressure (ExpansionOptions.MaxQueuedAhead): the next batch waits until the workers caught up.
                while (o.MaxQueuedAhead > 0 && await store.DueBacklogAsync(o.MaxQueuedAhead, time.UtcNow(), stoppingToken) >= o.MaxQueuedAhead)
                {
                    await Task.Delay(BacklogRecheck, time, stoppingToken);
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
