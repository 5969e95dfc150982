using Microsoft.Extensions.Options;
using PushGateway.Hosting;
using PushGateway.Messages;

namespace PushGateway.Delivery;

/// <summary>
/// Releases held deliveries of fixed applications and expires those whose TTL ran out; finishes the misconfiguration
/// guard's restore for answers recorded after it tripped.
/// </summary>
internal sealed class DeliverySweeper(DeliveryQueue queue, ResultStore results, MisconfigurationGuard guard, DeliverySignal signal, IOptions<DeliveryOptions> options, TimeProvider time, ILogger<DeliverySweeper> logger) : BackgroundService
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

                if (options.Value.MisconfigurationMinAnswers > 0)
                {
                    await results.RestoreAfterTripsAsync(time.UtcNow(), options.Value.MisconfigurationWindow, stoppingToken);
                    guard.Forget(time.UtcNow());
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
