namespace PushGateway.Hosting;

/// <summary>
/// The loop of a background job that runs soon after start (after its interval, at most 10 s) and then every
/// interval: a failed run is reported and the next one comes at its time; stopping ends the loop quietly.
/// </summary>
internal static class PeriodicJob
{
    public static async Task RunAsync(TimeSpan interval, Func<CancellationToken, Task> once, Action<Exception> failed, TimeProvider time, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, interval.TotalSeconds)), time, stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await once(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    failed(ex);
                }

                await Task.Delay(interval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
