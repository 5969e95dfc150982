using System.Threading.Channels;
using Npgsql;
using PushGateway.Hosting;

namespace PushGateway.Delivery;

/// <summary>
/// Records results as they arrive: each writer takes what is waiting (up to <see cref="DeliveryOptions.ResultGroupSize"/>),
/// waits <see cref="DeliveryOptions.ResultGroupDelay"/> for a few more when the group is small, and commits the group
/// in one short transaction, so a result is durable within tens of milliseconds of the provider's answer and never
/// waits for another delivery's request.
/// <list type="bullet">
/// <item>The database unreachable (restart, failover, dropped connection): the group is kept and written again with
/// backoff while its leases last; only if they run out first are those rows sent again.</item>
/// <item>Anything else (a row the database refuses): the group is written row by row, so the other results are
/// recorded; a row that still fails is parked (due again only after a backoff, never at once) and counted and logged
/// as an alert. One bad row never affects another delivery.</item>
/// </list>
/// </summary>
internal sealed class ResultWriter(ResultStore store, DeliveryQueue queue, DeliveryMetrics metrics, DeliveryOptions options, TimeProvider time, ILogger logger)
{
    private readonly Channel<DeliveryResult> _results = Channel.CreateUnbounded<DeliveryResult>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });

    /// <summary>This process's lease owner id: results are written only for rows it still holds.</summary>
    public Guid Owner { get; } = Guid.NewGuid();

    /// <summary>Called with the number of results that are done (recorded, parked or given up) so capacity is freed.</summary>
    public Action<int> Done { get; set; } = _ => { };

    /// <summary>Queues a result for writing; false once the writers have stopped (the row's lease will run out).</summary>
    public bool Post(DeliveryResult result) => _results.Writer.TryWrite(result);

    /// <summary>No more results will come: writers finish what is queued and stop.</summary>
    public void Complete() => _results.Writer.TryComplete();

    public Task RunAsync(CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, options.ResultWriters).Select(_ => Task.Run(() => WriteLoopAsync(stop), CancellationToken.None)));

    private async Task WriteLoopAsync(CancellationToken stop)
    {
        var reader = _results.Reader;
        var group = new List<DeliveryResult>(options.ResultGroupSize);
        try
        {
            while (await reader.WaitToReadAsync(stop))
            {
                group.Clear();
                Drain(reader, group);
                if (group.Count < options.ResultGroupSize && options.ResultGroupDelay > TimeSpan.Zero && !reader.Completion.IsCompleted)
                {
                    await Task.Delay(options.ResultGroupDelay, time, stop);
                    Drain(reader, group);
                }

                if (group.Count == 0)
                {
                    continue;
                }

                try
                {
                    await WriteGroupAsync(group, stop);
                }
                finally
                {
                    Done(group.Count);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Shutdown's grace is over: what is not written comes back when its lease runs out.
        }
    }

    private void Drain(ChannelReader<DeliveryResult> reader, List<DeliveryResult> group)
    {
        while (group.Count < options.ResultGroupSize && reader.TryRead(out var result))
        {
            group.Add(result);
        }
    }

    private async Task WriteGroupAsync(List<DeliveryResult> group, CancellationToken stop)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                Report(await store.WriteAsync(group, Owner, time.UtcNow(), stop));
                return;
            }
            catch (Exception ex) when (IsUnreachable(ex) && !stop.IsCancellationRequested)
            {
                // Keep the results while their leases last: once the database is back they are recorded and nothing
                // is sent twice. Past that, the rows are due for other workers anyway.
                var leaseEnd = group.Min(r => r.Delivery.LeasedUntil) - PreSendCheck.LeaseMargin;
                if (time.UtcNow() + delay >= leaseEnd)
                {
                    logger.ResultWriteFailed(group.Count, ex);
                    return;
                }

                await Task.Delay(delay, time, stop);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(4).Ticks));
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                if (group.Count == 1)
                {
                    await ParkAsync(group[0], ex, stop);
                    return;
                }

                // One row the database refuses must not take the others with it: write them one by one.
                logger.ResultGroupRefused(group.Count, ErrorCode(ex));
                foreach (var result in group)
                {
                    await WriteGroupAsync([result], stop);
                }

                return;
            }
        }
    }

    private async Task ParkAsync(DeliveryResult result, Exception error, CancellationToken stop)
    {
        metrics.ResultUnrecorded();
        var now = time.UtcNow();
        var dueAt = now + RetryPolicy.Delay(result.Delivery.Attempts, null, Random.Shared.NextDouble(), TimeSpan.FromMinutes(1), TimeSpan.FromHours(1));
        var parked = false;
        try
        {
            parked = await queue.ParkAsync(result.Delivery, Owner, dueAt, now, stop);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Then the lease is the backoff: the row is due again only when it runs out.
        }

        logger.ResultParked(result.Delivery.Id, result.Delivery.ApplicationId, result.State, ErrorCode(error), parked ? dueAt : result.Delivery.LeasedUntil);
    }

    /// <summary>The database could not be reached or went away: worth waiting for, unlike a row it refuses.</summary>
    internal static bool IsUnreachable(Exception ex) => ex switch
    {
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal) // connection exceptions
            || pg.SqlState.StartsWith("53", StringComparison.Ordinal)                  // insufficient resources
            || pg.SqlState is "57P01" or "57P02" or "57P03" or "40001" or "40P01",     // shutdown, starting, serialization, deadlock
        NpgsqlException => true,    // no server answer at all (socket, timeout, pool)
        TimeoutException => true,
        System.Net.Sockets.SocketException => true,
        IOException => true,
        _ => false,
    };

    private static string ErrorCode(Exception ex) => ex is PostgresException pg ? $"{ex.GetType().Name} {pg.SqlState}" : ex.GetType().Name;

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

        foreach (var applicationId in summary.GuardsTripped)
        {
            logger.MisconfigurationGuardTripped(applicationId, summary.EndpointsRestored.Count);
            metrics.GuardTripped();
        }

        metrics.EndpointsRestored(summary.EndpointsRestored.Count);
    }
}
