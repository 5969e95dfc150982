using System.Diagnostics.Metrics;
using PushGateway.Data;

namespace PushGateway.Delivery;

/// <summary>Delivery instruments on the <c>PushGateway</c> meter (exported as Prometheus text at /metrics).</summary>
internal sealed class DeliveryMetrics : IDisposable
{
    public const string MeterName = "PushGateway";

    private readonly Meter _meter;
    private readonly Counter<long> _deliveries;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _endpointsDisabled;
    private readonly Counter<long> _applicationsDisabled;
    private readonly Counter<long> _guardTrips;
    private readonly Counter<long> _endpointsRestored;
    private readonly Counter<long> _unrecorded;
    private readonly Histogram<double> _endToEnd;
    private readonly Histogram<double> _providerDuration;

    public DeliveryMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _deliveries = _meter.CreateCounter<long>("pushgateway.deliveries", description: "Deliveries that reached a final state, by platform, outcome and reason.");
        _retries = _meter.CreateCounter<long>("pushgateway.delivery.retries", description: "Attempts that will be retried later.");
        _endpointsDisabled = _meter.CreateCounter<long>("pushgateway.endpoints.disabled", description: "Endpoints disabled because the provider said the token is dead.");
        _applicationsDisabled = _meter.CreateCounter<long>("pushgateway.applications.disabled", description: "Applications disabled by a credential failure.");
        _guardTrips = _meter.CreateCounter<long>("pushgateway.misconfiguration.trips",
            description: "Times the misconfiguration guard blamed an application (dead-token answers en masse) and disabled it instead of its endpoints.");
        _endpointsRestored = _meter.CreateCounter<long>("pushgateway.endpoints.restored",
            description: "Endpoints enabled again by the misconfiguration guard (disabled by answers it then blamed on the application).");
        _unrecorded = _meter.CreateCounter<long>("pushgateway.delivery.result.write.failures",
            description: "Delivery results the database refused even on their own; each such delivery is parked (due again after a backoff). Alert on any.");
        _endToEnd = _meter.CreateHistogram<double>("pushgateway.delivery.latency", unit: "s",
            description: "Accepted → provider answered, for delivered and failed deliveries.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });
        _providerDuration = _meter.CreateHistogram<double>("pushgateway.provider.request.duration", unit: "s",
            description: "One request to APNs or FCM.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
    }

    public void Recorded(DeliveryResult result)
    {
        switch (result.State)
        {
            case DeliveryStates.Pending when result.LastAttemptAt is not null:
                _retries.Add(1, new KeyValuePair<string, object?>("platform", result.Platform));
                break;
            case DeliveryStates.Delivered or DeliveryStates.Failed or DeliveryStates.Expired or DeliveryStates.Skipped:
                _deliveries.Add(1,
                    new KeyValuePair<string, object?>("platform", result.Platform),
                    new KeyValuePair<string, object?>("outcome", result.State),
                    new KeyValuePair<string, object?>("reason", ReasonLabel(result)));
                if (result.State is DeliveryStates.Delivered or DeliveryStates.Failed && result.AcceptedAt is { } accepted && result.LastAttemptAt is { } answered)
                {
                    _endToEnd.Record(Math.Max(0, (answered - accepted).TotalSeconds), new KeyValuePair<string, object?>("platform", result.Platform));
                }

                break;
        }
    }

    public void ProviderRequest(string provider, TimeSpan duration) =>
        _providerDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("provider", provider));

    public void EndpointDisabled(string reason) =>
        _endpointsDisabled.Add(1, new KeyValuePair<string, object?>("reason", reason.Split(' ', 2)[0]));

    public void ApplicationDisabled() => _applicationsDisabled.Add(1);

    public void GuardTripped() => _guardTrips.Add(1);

    public void EndpointsRestored(int count) => _endpointsRestored.Add(count);

    public void ResultUnrecorded() => _unrecorded.Add(1);

    /// <summary>Reasons are provider reason strings (a bounded set); free text after a colon is cut off.</summary>
    private static string ReasonLabel(DeliveryResult result) => result.State switch
    {
        DeliveryStates.Delivered => "",
        _ => result.ProviderReason is { } reason ? reason.Split(':', 2)[0].Split(' ', 2)[0] : "",
    };

    public void Dispose() => _meter.Dispose();
}
