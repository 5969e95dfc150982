using Microsoft.Extensions.Options;

namespace PushGateway.Events;

/// <summary>
/// Deletes delivered and skipped events once they are older than <see cref="EventsOptions.Retention"/>. Failed events
/// stay (they are what an operator looks at and retries); pending ones are still being delivered. Deletes go in small
/// batches so no statement holds many row locks or runs long.
/// </summary>
internal sealed class EventRetention(EventStore store, IOptions<EventsOptions> options, TimeProvider time, ILogger<EventRetention> logger) : BackgroundService
{
    private const int BatchSize = 5000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
                await Task.Delay(o.RetentionInterval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                logger.RetentionFailed(ex);
                try
                {
                    await Task.Delay(o.RetentionInterval < TimeSpan.FromMinutes(1) ? o.RetentionInterval : TimeSpan.FromMinutes(1), time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    internal async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - options.Value.Retention;
        var total = 0;
        int deleted;
        do
        {
            deleted = await store.DeleteCompletedAsync(cutoff, BatchSize, cancellationToken);
            total += deleted;
        }
        while (deleted == BatchSize && !cancellationToken.IsCancellationRequested);

        if (total > 0)
        {
            logger.RetentionDeleted(total, cutoff);
        }

        return total;
    }
}
