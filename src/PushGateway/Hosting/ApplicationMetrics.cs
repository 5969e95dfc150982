using System.Globalization;
using System.Text;
using PushGateway.Delivery;

namespace PushGateway.Hosting;

/// <summary>Marks the Prometheus scraping endpoint, whose answer <see cref="ApplicationMetrics"/> extends for the admin key.</summary>
internal sealed record PerApplicationMetrics;

/// <summary>
/// <c>/metrics</c> is open so that any scraper can read the aggregates, but per-application series name tenants'
/// applications, so they are shown only to a scrape that carries the admin key (Prometheus: <c>authorization:</c>
/// with <c>credentials_file</c> in the scrape config). The same URL and metric names either way, so an operator adds
/// the key to the existing scrape job instead of running a second one. Another key is refused (403) rather than
/// quietly treated as no key, so a misconfigured scrape shows up as a failing target.
/// </summary>
/// <remarks>
/// The OpenTelemetry exporter's output is per process and cached between scrapes, so the detail cannot be a meter
/// instrument filtered per request (a concurrent anonymous scrape could share the admin scrape's collection); it is
/// written here from <see cref="QueueStats.Current"/> after the exporter's text instead.
/// </remarks>
internal static class ApplicationMetrics
{
    public const string CertificateExpiry = "pushgateway_apns_certificate_expiry_seconds";
    private const string OpenMetricsEnd = "# EOF\n";

    public static IApplicationBuilder UseApplicationMetrics(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<PerApplicationMetrics>() is null)
        {
            await next(context);
            return;
        }

        switch (ApiKeyAuth.PresentsAdminKey(context))
        {
            case null:
                await next(context);
                return;
            case false:
                await Problems.Forbidden("The per-application series need the admin key; scrape without Authorization for the aggregates.").ExecuteAsync(context);
                return;
        }

        var original = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
            // Whatever the exporter left in the response's pipe writer (it may write through BodyWriter).
            await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
        }
        finally
        {
            context.Response.Body = original;
        }

        var text = Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        if (context.Response.StatusCode == StatusCodes.Status200OK)
        {
            var detail = Render(context.RequestServices.GetRequiredService<QueueStats>().Current);
            text = text.EndsWith(OpenMetricsEnd, StringComparison.Ordinal)
                ? string.Concat(text.AsSpan(0, text.Length - OpenMetricsEnd.Length), detail, OpenMetricsEnd)
                : text + detail;
        }

        var bytes = Encoding.UTF8.GetBytes(text);
        context.Response.ContentLength = bytes.Length;
        await original.WriteAsync(bytes, context.RequestAborted);
    });

    /// <summary>The per-application series in the Prometheus text format (the OpenMetrics form is the same for a gauge).</summary>
    internal static string Render(QueueSnapshot snapshot)
    {
        var text = new StringBuilder();
        if (snapshot.Certificates.Count > 0)
        {
            text.Append("# HELP ").Append(CertificateExpiry).Append(" Seconds until each APNs certificate expires (negative once expired).\n");
            text.Append("# TYPE ").Append(CertificateExpiry).Append(" gauge\n");
            foreach (var certificate in snapshot.Certificates)
            {
                text.Append(CertificateExpiry)
                    .Append("{application_id=\"").Append(certificate.Id.ToString())
                    .Append("\",application=\"").Append(EscapeLabel(certificate.Name))
                    .Append("\"} ").Append(certificate.SecondsLeft.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        return text.ToString();
    }

    /// <summary>Label values are tenant text: backslash, quote and newline are escaped as the exposition format says.</summary>
    private static string EscapeLabel(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
