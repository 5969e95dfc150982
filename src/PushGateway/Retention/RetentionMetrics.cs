using System.Diagnostics.Metrics;

namespace PushGateway.Retention;

/// <summary>
/// <c>pushgateway.retention.deleted</c> on the <c>PushGateway</c> meter (at /metrics:
/// <c>pushgateway_retention_deleted_total{kind}</c>), kind = messages, deliveries or idempotency_keys.
/// </summary>
internal sealed class RetentionMetrics : IDisposable
{
    public const string Messages = "messages";
    public const string Deliveries = "deliveries";
    public const string IdempotencyKeys = "idempotency_keys";

    private readonly Meter _meter;
    private readonly Counter<long> _deleted;

    public RetentionMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(Delivery.DeliveryMetrics.MeterName);
        _deleted = _meter.CreateCounter<long>("pushgateway.retention.deleted",
            description: "Rows the retention job deleted: messages, their deliveries (receipts) and idempotency keys past their retention.");
    }

    public void Deleted(string kind, long count)
    {
        if (count > 0)
        {
            _deleted.Add(count, new KeyValuePair<string, object?>("kind", kind));
        }
    }

    public void Dispose() => _meter.Dispose();
}
