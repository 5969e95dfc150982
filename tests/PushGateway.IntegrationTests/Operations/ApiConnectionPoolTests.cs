using System.Net;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Operations;

/// <summary>
/// The API's own connection pool (requests' statements) is bounded by <c>Api:MaxDatabaseConnections</c> and shows up in
/// pg_stat_activity as <c>pushgateway-api</c>; requests beyond it wait for a connection and are all answered.
/// </summary>
public sealed class ApiConnectionPoolTests(ApiConnectionPoolTests.Gateway gateway) : IClassFixture<ApiConnectionPoolTests.Gateway>
{
    public sealed class Gateway : TestGateway
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Api:MaxDatabaseConnections"] = "2",
            // Only the API's connections in this test's database: no workers, no webhook dispatcher traffic.
            ["Delivery:Enabled"] = "false",
        };
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ManyConcurrentRequests_UseAtMostTheConfiguredConnections_AndAllAreAnswered()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var endpointId = (await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct)).Id();

        // Forty at once, three times: an unbounded pool opens a connection for most of them (and keeps them, idle).
        for (var round = 0; round < 3; round++)
        {
            var statuses = await Task.WhenAll(Enumerable.Range(0, 40).Select(async _ =>
            {
                using var response = await project.Client.GetAsync($"v1/endpoints/{endpointId}", Ct);
                return response.StatusCode;
            }));
            Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        }

        var apiConnections = await gateway.ScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pushgateway-api'", Ct);
        Assert.InRange(apiConnections, 1, 2);
    }
}
