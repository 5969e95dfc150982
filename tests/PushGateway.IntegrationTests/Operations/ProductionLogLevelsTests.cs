using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Operations;

/// <summary>
/// The gateway's appsettings.json sets production log levels: at the default level (Information) the logs carry no
/// SQL text and no request URL with its query string.
/// </summary>
public sealed class ProductionLogLevelsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class DefaultLevelGateway : TestGateway
    {
        public MetricsAndLogsTests.LogCapture Capture { get; } = new();

        // TestGateway quiets everything to Warning; put back the level a production gateway starts with.
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Information" };

        protected override void ConfigureBuilder(WebApplicationBuilder builder) => builder.Logging.AddProvider(Capture);
    }

    [Fact]
    public async Task AtTheDefaultLevel_LogsHaveNoSqlAndNoQueryStrings()
    {
        await using var gateway = new DefaultLevelGateway();
        await gateway.InitializeAsync();
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var response = await project.Client.GetAsync($"v1/applications/{appId}/endpoints?userId=secret-marker", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var anonymous = gateway.Client();
        await anonymous.GetAsync("v1/applications?cursor=another-marker", Ct);
        await Task.Delay(200, Ct);

        var logs = string.Join("\n", gateway.Capture.Lines);
        // The capture works and sees Information lines (the host's start-up message).
        Assert.Contains("Microsoft.Hosting.Lifetime", logs, StringComparison.Ordinal);
        foreach (var forbidden in new[] { "secret-marker", "another-marker", "SELECT", "INSERT", "FROM applications", "Executed DbCommand", "Request starting" })
        {
            Assert.DoesNotContain(forbidden, logs, StringComparison.OrdinalIgnoreCase);
        }
    }
}
