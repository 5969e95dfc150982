using System.Diagnostics.Metrics;

namespace PushGateway.Events;

/// <summary>Webhook instruments on the <c>PushGateway</c> meter (exported with the others at /metrics).</summary>
internal sealed class WebhookMetrics : IDisposable
{
    /// <summary>The same meter as the delivery instruments, so one exporter covers both.</summary>
    public const string MeterName = "PushGateway";

    public const string Delivered = "delivered";
    public const string Retried = "retried";
    public const string Failed = "failed";
    public const string Skipped = "skipped";

    private readonly Meter _meter;
    private readonly Counter<long> _deliveries;
    private readonly Histogram<double> _duration;

    public WebhookMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _deliveries = _meter.CreateCounter<long>("pushgateway.webhook.deliveries",
            description: "Webhook event outcomes: delivered, retried (an attempt failed, another follows), failed (retry window over), skipped (the webhook does not take the type; an application without a webhook has its events written skipped, not counted here).");
        _duration = _meter.CreateHistogram<double>("pushgateway.webhook.duration", unit: "s",
            description: "One webhook request, until the response headers, a timeout or a connection error.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
    }

    public void Outcome(string outcome, int count = 1)
    {
        if (count > 0)
        {
            _deliveries.Add(count, new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    public void Request(TimeSpan duration) => _duration.Record(duration.TotalSeconds);

    public void Dispose() => _meter.Dispose();
}
