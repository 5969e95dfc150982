using System.Collections.Frozen;
using Microsoft.Extensions.Options;
using Npgsql;
using PushGateway.Hosting;

namespace PushGateway.Quota;

/// <summary>
/// Deliveries queued (pending or held) per project, counted by one query every <see cref="QuotaOptions.RefreshInterval"/>
/// so that the send routes read a dictionary, not the database. Runs only when <c>Quota:MaxQueuedDeliveries</c> is set.
/// The count reads every queued row (about 2.6 s for 1,000,000 queued in a 4,000,000-row table on a busy 2-core VM), so
/// the next one waits at least <see cref="CostFactor"/> times as long as the last took: the count uses at most a fifth
/// of one database core, and is at most RefreshInterval + its duration (or 5 × its duration, if longer) old.
/// </summary>
internal sealed class QueuedDeliveries(NpgsqlDataSource dataSource, IOptions<QuotaOptions> options, TimeProvider time, ILogger<QueuedDeliveries> logger)
    : BackgroundService
{
    private const int CostFactor = 4;

    private FrozenDictionary<Guid, long> _counts = FrozenDictionary<Guid, long>.Empty;

    /// <summary>The project's queued deliveries at the last count (0 before the first).</summary>
    public long Of(Guid projectId) => _counts.GetValueOrDefault(projectId);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.MaxQueuedDeliveries <= 0)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var started = time.GetTimestamp();
            try
            {
                _counts = await CountAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (GatewayApp.IsDatabaseUnavailable(ex))
            {
                // Keep the last counts: the cap stays in force on what was last seen.
                logger.LogWarning("Could not count queued deliveries for the send quota: {Reason}", ex.Message);
            }

            try
            {
                var took = time.GetElapsedTime(started);
                await Task.Delay(TimeSpan.FromTicks(Math.Max(options.Value.RefreshInterval.Ticks, took.Ticks * CostFactor)), time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task<FrozenDictionary<Guid, long>> CountAsync(CancellationToken cancellationToken)
    {
        // Grouped by application first (deliveries carry no project id), then summed over each project's applications.
        await using var command = dataSource.CreateCommand("""
            SELECT a.project_id, sum(q.n)::bigint
            FROM (SELECT application_id, count(*) AS n FROM deliveries WHERE state IN ('pending', 'held') GROUP BY application_id) q
            JOIN applications a ON a.id = q.application_id
            GROUP BY a.project_id
            """);
        var counts = new Dictionary<Guid, long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetGuid(0)] = reader.GetInt64(1);
        }

        return counts.ToFrozenDictionary();
    }
}
