using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Npgsql;
using PushGateway.Data;
using PushGateway.Hosting;

namespace PushGateway.Delivery;

internal sealed record DisabledApplication(Guid Id, string Name, string? Reason, DateTimeOffset? DisabledAt);

internal sealed record CertificateExpiry(Guid Id, string Name, DateTimeOffset NotAfter, double SecondsLeft);

/// <summary>A periodic look at the queue and the applications' credentials, for /metrics and /readyz.</summary>
internal sealed record QueueSnapshot(
    long Pending,
    long Held,
    double OldestDueSeconds,
    IReadOnlyList<DisabledApplication> DisabledApplications,
    IReadOnlyList<CertificateExpiry> Certificates,
    DateTimeOffset TakenAt)
{
    public static readonly QueueSnapshot Empty = new(0, 0, 0, [], [], DateTimeOffset.MinValue);

    /// <summary>What /readyz counts as "expiring soon" (and lists, for the admin key).</summary>
    public static readonly TimeSpan ExpiryWarning = TimeSpan.FromDays(30);

    public IReadOnlyList<CertificateExpiry> ExpiringCertificates =>
        Certificates.Where(c => c.SecondsLeft < ExpiryWarning.TotalSeconds).ToList();

    /// <summary>Applications the misconfiguration guard disabled (their reason says so).</summary>
    public int MisconfiguredApplicationCount => DisabledApplications.Count(a => a.Reason?.StartsWith("misconfiguration:", StringComparison.Ordinal) == true);

    /// <summary>The certificate that expires first, over every tenant: null when there is no certificate application.</summary>
    public double? SoonestCertificateExpirySeconds => Certificates.Count == 0 ? null : Certificates.Min(c => c.SecondsLeft);
}

/// <summary>
/// Samples the queue (depth, age of the oldest due delivery) and the applications (disabled ones, APNs certificate
/// expiry) every few seconds and publishes them as gauges on the PushGateway meter. Scrapes never hit the database.
/// </summary>
internal sealed class QueueStats : BackgroundService
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _time;
    private readonly ILogger<QueueStats> _logger;
    private readonly TimeSpan _interval;
    private readonly Meter _meter;

    public QueueStats(NpgsqlDataSource dataSource, TimeProvider time, IOptions<DeliveryOptions> options, IMeterFactory meters, ILogger<QueueStats> logger)
    {
        _dataSource = dataSource;
        _time = time;
        _logger = logger;
        _interval = options.Value.StatsInterval;
        _meter = meters.Create(DeliveryMetrics.MeterName);
        _meter.CreateObservableGauge("pushgateway.queue.depth", () => new[]
        {
            new Measurement<long>(Current.Pending, new KeyValuePair<string, object?>("state", "pending")),
            new Measurement<long>(Current.Held, new KeyValuePair<string, object?>("state", "held")),
        }, description: "Deliveries waiting: pending (due or retrying) and held (application credentials broken).");
        _meter.CreateObservableGauge("pushgateway.queue.oldest_due_age", () => Current.OldestDueSeconds, unit: "s",
            description: "How long the oldest due pending delivery has been waiting to be sent.");
        _meter.CreateObservableGauge("pushgateway.applications.disabled_current", () => (long)Current.DisabledApplications.Count,
            description: "Applications currently disabled (credential failure, misconfiguration guard or by hand).");
        _meter.CreateObservableGauge("pushgateway.applications.misconfigured_current", () => (long)Current.MisconfiguredApplicationCount,
            description: "Applications currently disabled by the misconfiguration guard (dead-token answers en masse).");
        // Aggregates only: the meter is what an unauthenticated scrape of /metrics shows, so nothing here may name a
        // tenant's application. The per-application series (pushgateway_apns_certificate_expiry_seconds with its
        // application labels) is written from Current by ApplicationMetrics, for the admin key only.
        _meter.CreateObservableGauge("pushgateway.apns.certificates.expiring", () => (long)Current.ExpiringCertificates.Count,
            description: "APNs certificates (over every application) that expire within 30 days or have expired.");
        _meter.CreateObservableGauge("pushgateway.apns.certificate.expiry.min", () =>
                Current.SoonestCertificateExpirySeconds is { } soonest ? [new Measurement<double>(soonest)] : Array.Empty<Measurement<double>>(),
            unit: "s", description: "Seconds until the first of all APNs certificates expires (negative once expired); absent without certificate applications.");
    }

    public QueueSnapshot Current { get; private set; } = QueueSnapshot.Empty;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                Current = await SampleAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (GatewayApp.IsDatabaseUnavailable(ex))
            {
                _logger.StatsUnavailable(ex.Message);
            }

            try
            {
                await Task.Delay(_interval, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    public async Task<QueueSnapshot> SampleAsync(CancellationToken cancellationToken)
    {
        var now = _time.UtcNow();
        long pending = 0, held = 0;
        double oldest = 0;
        await using (var queue = _dataSource.CreateCommand("""
            SELECT (SELECT count(*) FROM deliveries WHERE state = 'pending'),
                   (SELECT count(*) FROM deliveries WHERE state = 'held'),
                   (SELECT min(next_attempt_at) FROM deliveries WHERE state = 'pending' AND next_attempt_at <= @now)
            """))
        {
            queue.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
            await using var reader = await queue.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            pending = reader.GetInt64(0);
            held = reader.GetInt64(1);
            oldest = reader.IsDBNull(2) ? 0 : Math.Max(0, (now - reader.GetFieldValue<DateTimeOffset>(2)).TotalSeconds);
        }

        var disabled = new List<DisabledApplication>();
        var certificates = new List<CertificateExpiry>();
        await using (var apps = _dataSource.CreateCommand("""
            SELECT id, name, enabled, disabled_reason, disabled_at, credentials_type, credentials_info::text
            FROM applications WHERE NOT enabled OR credentials_type = 'certificate'
            """))
        await using (var reader = await apps.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetGuid(0);
                var name = reader.GetString(1);
                if (!reader.GetBoolean(2))
                {
                    disabled.Add(new DisabledApplication(id, name, reader.IsDBNull(3) ? null : reader.GetString(3),
                        reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4)));
                }

                if (reader.GetString(5) == CredentialTypes.Certificate
                    && JsonNode.Parse(reader.GetString(6))?["notAfter"]?.GetValue<DateTimeOffset>() is { } notAfter)
                {
                    certificates.Add(new CertificateExpiry(id, name, notAfter, (notAfter - now).TotalSeconds));
                }
            }
        }

        return new QueueSnapshot(pending, held, oldest, disabled, certificates, now);
    }

    public override void Dispose()
    {
        _meter.Dispose();
        base.Dispose();
    }
}
