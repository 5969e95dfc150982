using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Operations;

/// <summary>
/// /readyz and /metrics are open: without a key they show counts only, never a tenant's application ids, names or
/// disabled reasons; the admin key shows the per-application detail; a project key is refused.
/// </summary>
public sealed class OperationsDetailTests(OperationsDetailTests.FastStatsGateway gateway) : IClassFixture<OperationsDetailTests.FastStatsGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public sealed class FastStatsGateway : TestGateway
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Delivery:StatsInterval"] = "00:00:00.100",
            ["Delivery:Enabled"] = "false",
        };

        /// <summary>One tenant with a disabled and a certificate application, set up once for the class.</summary>
        internal Lazy<Task<Tenant>>? Tenant { get; set; }
    }

    internal sealed record Tenant(Guid DisabledId, string DisabledName, string Reason, Guid CertificateId, string CertificateName, ProjectContext Project)
    {
        public IEnumerable<string> Secrets => [DisabledId.ToString(), DisabledName, Reason, CertificateId.ToString(), CertificateName];
    }

    private Task<Tenant> SetUpAsync()
    {
        lock (gateway)
        {
            gateway.Tenant ??= new Lazy<Task<Tenant>>(CreateTenantAsync);
        }

        return gateway.Tenant.Value;
    }

    private async Task<Tenant> CreateTenantAsync()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var disabledName = "disabled-app-" + Guid.NewGuid().ToString("N")[..8];
        var created = await project.Client.PostAsJsonAsync("v1/applications", new
        {
            name = disabledName,
            platform = "apns",
            environment = "production",
            credentials = TestCredentials.ApnsToken(),
        }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var disabledId = (await created.ReadObjectAsync(Ct)).Id();
        var reason = "reason-marker-" + Guid.NewGuid().ToString("N")[..8];
        await gateway.ScalarAsync<int>("UPDATE applications SET enabled = false, disabled_reason = @reason, disabled_at = now() WHERE id = @id", Ct,
            ("id", disabledId), ("reason", reason));

        var (p12, password, _) = TestCredentials.NewPkcs12(lifetime: TimeSpan.FromDays(10));
        var certificateName = "cert-app-" + Guid.NewGuid().ToString("N")[..8];
        var certificate = await project.Client.PostAsJsonAsync("v1/applications", new
        {
            name = certificateName,
            platform = "apns",
            environment = "production",
            credentials = new { type = "certificate", certificate = p12, password },
        }, Ct);
        Assert.Equal(HttpStatusCode.Created, certificate.StatusCode);
        var certificateId = (await certificate.ReadObjectAsync(Ct)).Id();

        // Wait for the statistics sampler to have seen both.
        using var anonymous = gateway.Client();
        await DeliveryGateway.WaitUntilAsync(async () =>
        {
            var ready = await anonymous.GetFromJsonAsync<JsonObject>("readyz", Ct);
            return ready!["credentials"]!["disabledApplicationCount"]!.GetValue<int>() == 1
                && ready["credentials"]!["expiringCertificateCount"]!.GetValue<int>() == 1;
        }, Ct, what: "the sampler to count the disabled application and the expiring certificate");
        return new Tenant(disabledId, disabledName, reason, certificateId, certificateName, project);
    }

    [Fact]
    public async Task WithoutKey_ReadyzAndMetrics_ShowAggregatesOnly()
    {
        var tenant = await SetUpAsync();
        using var anonymous = gateway.Client();

        var readyResponse = await anonymous.GetAsync("readyz", Ct);
        Assert.Equal(HttpStatusCode.OK, readyResponse.StatusCode);
        var readyText = await readyResponse.Content.ReadAsStringAsync(Ct);
        var credentials = JsonNode.Parse(readyText)!["credentials"]!.AsObject();
        Assert.Equal(1, credentials["disabledApplicationCount"]!.GetValue<int>());
        Assert.Equal(1, credentials["expiringCertificateCount"]!.GetValue<int>());
        Assert.InRange(credentials["soonestCertificateExpirySeconds"]!.GetValue<double>(), TimeSpan.FromDays(9).TotalSeconds, TimeSpan.FromDays(10).TotalSeconds);
        Assert.False(credentials.ContainsKey("disabledApplications"), readyText);
        Assert.False(credentials.ContainsKey("certificatesExpiringWithin30Days"), readyText);

        var metrics = await anonymous.GetAsync("metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        var metricsText = await metrics.Content.ReadAsStringAsync(Ct);
        Assert.Contains("pushgateway_apns_certificates_expiring", metricsText, StringComparison.Ordinal);
        Assert.Contains("pushgateway_apns_certificate_expiry_min_seconds", metricsText, StringComparison.Ordinal);
        Assert.Contains("pushgateway_applications_disabled_current", metricsText, StringComparison.Ordinal);
        Assert.DoesNotContain("application_id=", metricsText, StringComparison.Ordinal);

        foreach (var secret in tenant.Secrets)
        {
            Assert.DoesNotContain(secret, readyText, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(secret, metricsText, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task WithAdminKey_ReadyzAndMetrics_ShowEachApplication()
    {
        var tenant = await SetUpAsync();
        using var admin = gateway.Admin();

        var ready = await admin.GetFromJsonAsync<JsonObject>("readyz", Ct);
        var credentials = ready!["credentials"]!;
        var disabled = Assert.Single(credentials["disabledApplications"]!.AsArray())!;
        Assert.Equal(tenant.DisabledId, disabled.AsObject().Id());
        Assert.Equal(tenant.DisabledName, disabled["name"].Str());
        Assert.Equal(tenant.Reason, disabled["reason"].Str());
        var expiring = Assert.Single(credentials["certificatesExpiringWithin30Days"]!.AsArray())!;
        Assert.Equal(tenant.CertificateId, expiring.AsObject().Id());
        Assert.Equal(tenant.CertificateName, expiring["name"].Str());
        Assert.Equal(1, credentials["disabledApplicationCount"]!.GetValue<int>());

        var metrics = await admin.GetAsync("metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        var text = await metrics.Content.ReadAsStringAsync(Ct);
        Assert.Contains($"pushgateway_apns_certificate_expiry_seconds{{application_id=\"{tenant.CertificateId}\",application=\"{tenant.CertificateName}\"}} ", text, StringComparison.Ordinal);
        // The exporter's own series are still there, in front of the detail.
        Assert.Contains("pushgateway_applications_disabled_current", text, StringComparison.Ordinal);

        // OpenMetrics negotiation: the detail goes before the closing "# EOF".
        using var request = new HttpRequestMessage(HttpMethod.Get, "metrics");
        request.Headers.Accept.ParseAdd("application/openmetrics-text; version=1.0.0");
        var openMetrics = await (await admin.SendAsync(request, Ct)).Content.ReadAsStringAsync(Ct);
        Assert.Contains(tenant.CertificateId.ToString(), openMetrics, StringComparison.Ordinal);
        if (openMetrics.Contains("# EOF", StringComparison.Ordinal))
        {
            Assert.EndsWith("# EOF\n", openMetrics, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task WithProjectKey_ReadyzAndMetrics_Answer403_WithoutDetail()
    {
        var tenant = await SetUpAsync();
        foreach (var route in new[] { "readyz", "metrics" })
        {
            var response = await tenant.Project.Client.GetAsync(route, Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("forbidden", JsonNode.Parse(text)!["type"].Str());
            foreach (var secret in tenant.Secrets)
            {
                Assert.DoesNotContain(secret, text, StringComparison.OrdinalIgnoreCase);
            }
        }
    }
}
