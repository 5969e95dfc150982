using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using PushGateway.Delivery;
using PushGateway.Events;
using PushGateway.Hosting;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.Retention;

namespace PushGateway.IntegrationTests.Operations;

/// <summary>
/// The Grafana dashboard and the alert rules name only series the gateway exports: every pushgateway_* name in
/// deploy/grafana/pushgateway.json and deploy/prometheus/alerts.yml is one of the gateway's instruments under the
/// Prometheus exporter's naming (dots to underscores, the unit's suffix, _total for counters, _bucket/_count/_sum for
/// histograms). promtool checks the rules' syntax; a renamed instrument would leave a panel or an alert silently empty.
/// </summary>
public sealed partial class DashboardSeriesTests(DeliveryGateway gateway) : IClassFixture<DeliveryGateway>
{
    [GeneratedRegex(@"\bpushgateway_[a-z0-9_]+")]
    private static partial Regex SeriesName();

    [Fact]
    public void DashboardAndAlerts_NameOnlyExportedSeries()
    {
        var exported = ExportedSeries();
        Assert.Contains("pushgateway_deliveries_total", exported);
        Assert.Contains("pushgateway_delivery_latency_seconds_bucket", exported);

        foreach (var file in new[] { "deploy/grafana/pushgateway.json", "deploy/prometheus/alerts.yml" })
        {
            var used = SeriesName().Matches(File.ReadAllText(Path.Combine(Root(), file))).Select(m => m.Value).Distinct().ToList();
            Assert.NotEmpty(used);
            var unknown = used.Where(name => !exported.Contains(name)).ToList();
            Assert.True(unknown.Count == 0, $"{file} names series the gateway does not export: {string.Join(", ", unknown)}");
        }
    }

    /// <summary>The names /metrics can show: this gateway's instruments, plus the per-application series written by hand.</summary>
    private HashSet<string> ExportedSeries()
    {
        // The instruments are created with the services that own them.
        _ = gateway.Services.GetRequiredService<DeliveryMetrics>();
        _ = gateway.Services.GetRequiredService<WebhookMetrics>();
        _ = gateway.Services.GetRequiredService<RetentionMetrics>();
        _ = gateway.Services.GetRequiredService<QueueStats>();
        var factory = gateway.Services.GetRequiredService<IMeterFactory>();

        var names = new HashSet<string>(StringComparer.Ordinal) { ApplicationMetrics.CertificateExpiry };
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, _) =>
        {
            if (instrument.Meter.Name != DeliveryMetrics.MeterName || !ReferenceEquals(instrument.Meter.Scope, factory))
            {
                return;
            }

            var name = instrument.Name.Replace('.', '_');
            if (instrument.Unit == "s" && !name.EndsWith("_seconds", StringComparison.Ordinal))
            {
                name += "_seconds";
            }

            var type = instrument.GetType().GetGenericTypeDefinition().Name;
            string[] series = type switch
            {
                _ when type.StartsWith("Counter", StringComparison.Ordinal) || type.StartsWith("ObservableCounter", StringComparison.Ordinal) => [name + "_total"],
                _ when type.StartsWith("Histogram", StringComparison.Ordinal) => [name + "_bucket", name + "_count", name + "_sum"],
                _ => [name],
            };
            lock (names)
            {
                names.UnionWith(series);
            }
        };
        listener.Start();
        return names;
    }

    private static string Root()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "PushGateway.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root was not found above " + AppContext.BaseDirectory);
    }
}
