using Microsoft.Extensions.Options;
using PushGateway.Hosting;

namespace PushGateway.Retention;

/// <summary>
/// Deletes messages with their deliveries <see cref="RetentionOptions.Messages"/> after they completed, and idempotency
/// keys <see cref="RetentionOptions.IdempotencyKeys"/> after they were used: soon after start, then every
/// <see cref="RetentionOptions.Interval"/>, each time until nothing expired is left. Every transaction removes at most
/// <see cref="RetentionOptions.BatchSize"/> rows, so none holds many locks or runs long, and replicas running the job
/// at once skip each other's rows.
/// </summary>
internal sealed class HistoryRetention(
    RetentionStore store, RetentionMetrics metrics, IOptions<RetentionOptions> options, TimeProvider time, ILogger<HistoryRetention> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicJob.RunAsync(options.Value.Interval, RunOnceAsync, logger.Failed, time, stoppingToken);

    internal async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        var messageCutoff = now - o.Messages;
        var keyCutoff = now - o.IdempotencyKeys;
        var (messages, deliveries) = await DeleteMessagesAsync(messageCutoff, o.BatchSize, cancellationToken);

        long keys = 0;
        int deleted;
        do
        {
            deleted = await store.DeleteIdempotencyKeysAsync(keyCutoff, o.BatchSize, cancellationToken);
            keys += deleted;
            metrics.Deleted(RetentionMetrics.IdempotencyKeys, deleted);
        }
        while (deleted == o.BatchSize && !cancellationToken.IsCancellationRequested);

        if (messages + deliveries + keys > 0)
        {
            logger.Deleted(messages, deliveries, messageCutoff, keys, keyCutoff);
        }
    }

    private async Task<(long Messages, long Deliveries)> DeleteMessagesAsync(DateTimeOffset cutoff, int batchSize, CancellationToken cancellationToken)
    {
        long messages = 0, deliveries = 0;
        var after = Guid.Empty;
        while (!cancellationToken.IsCancellationRequested)
        {
            var batch = await store.DeleteMessagesAsync(cutoff, after, batchSize, cancellationToken);
            messages += batch.Messages;
            deliveries += batch.Deliveries;
            metrics.Deleted(RetentionMetrics.Messages, batch.Messages);
            metrics.Deleted(RetentionMetrics.Deliveries, batch.Deliveries);
            if (batch.Big is { } big)
            {
                // A big fan-out goes a batch of deliveries per transaction; the message row last.
                var done = false;
                while (!done && !cancellationToken.IsCancellationRequested)
                {
                    (var trimmed, done, var deleted) = await store.TrimAsync(big, batchSize, cancellationToken);
                    deliveries += trimmed;
                    metrics.Deleted(RetentionMetrics.Deliveries, trimmed);
                    if (deleted)
                    {
                        messages++;
                        metrics.Deleted(RetentionMetrics.Messages, 1);
                    }
                }
            }

            if (!batch.More)
            {
                break;
            }

            after = batch.Cursor;
        }

        return (messages, deliveries);
    }
}
