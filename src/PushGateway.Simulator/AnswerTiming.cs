using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace PushGateway.Simulator;

/// <summary>Latency, hangs and stream resets, shared by the APNs and FCM handlers.</summary>
internal sealed class AnswerTiming(CancellationToken stopping)
{
    public CancellationToken Stopping => stopping;

    /// <summary>Latency and jitter are real time even with a fake clock: they shape throughput, not protocol rules.</summary>
    public static Task DelayAsync(SimulatorSettings settings, CancellationToken cancellationToken)
    {
        var delay = settings.LatencyMs;
        if (settings.LatencyJitterMs > 0)
        {
            delay += Random.Shared.Next(settings.LatencyJitterMs + 1);
        }

        return delay > 0 ? Task.Delay(delay, cancellationToken) : Task.CompletedTask;
    }

    /// <summary>
    /// Never answers; ends when the client resets the stream or the simulator stops. In the second case the request
    /// is aborted, so the client sees a transport failure rather than an empty 200.
    /// </summary>
    public async Task HangAsync(HttpContext context)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        try
        {
            await Task.Delay(Timeout.Infinite, linked.Token);
        }
        catch (OperationCanceledException)
        {
            // Expected: the only way out of a hang.
        }

        if (!context.RequestAborted.IsCancellationRequested)
        {
            Reset(context);
        }
    }

    /// <summary>RST_STREAM INTERNAL_ERROR on HTTP/2; on HTTP/1.1 the connection is aborted.</summary>
    public static void Reset(HttpContext context)
    {
        var reset = context.Features.Get<IHttpResetFeature>();
        if (reset is not null)
        {
            reset.Reset(2);
        }
        else
        {
            context.Abort();
        }
    }
}
