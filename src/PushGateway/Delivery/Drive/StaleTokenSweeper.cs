using Microsoft.Extensions.Options;
using PushGateway.Data;
using PushGateway.Hosting;

namespace PushGateway.Delivery;

/// <summary>
/// Disables endpoints whose token has gone stale (<see cref="StaleTokenPolicy"/>) with reason <c>stale</c>, in batches
/// of <see cref="StaleTokenOptions.BatchSize"/>, soon after start and then every <see cref="StaleTokenOptions.Interval"/>.
/// A registration with the token revives such an endpoint like any disabled one. The scan reads the endpoints table
/// (no index on <c>token_updated_at</c>: one would make every re-registration's update a non-HOT one), which is why it
/// runs hourly, not continuously.
/// </summary>
internal sealed class StaleTokenSweeper(StaleEndpoints endpoints, IOptions<StaleTokenOptions> options, TimeProvider time, ILogger<StaleTokenSweeper> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicJob.RunAsync(options.Value.Interval, DisableStaleAsync, logger.IterationFailed, time, stoppingToken);

    private async Task DisableStaleAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        foreach (var platform in new[] { Platforms.Apns, Platforms.Fcm })
        {
            if (StaleTokenPolicy.Cutoff(platform, o, time.GetUtcNow()) is not { } cutoff)
            {
                continue;
            }

            int disabled;
            do
            {
                disabled = await endpoints.DisableBatchAsync(platform, cutoff, o.BatchSize, time.GetUtcNow(), stoppingToken);
                if (disabled > 0)
                {
                    logger.StaleEndpointsDisabled(disabled, platform);
                }
            }
            while (disabled == o.BatchSize && !stoppingToken.IsCancellationRequested);
        }
    }
}
