using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Delivery;

/// <summary>
/// Stale endpoints are not sent to even before the background job has disabled them: the job here runs once, 10 s
/// after start, and then only a day later, so the delivery decision alone keeps a stale token from being sent.
/// </summary>
public sealed class StaleTokensBeforeTheJobTests(StaleTokensBeforeTheJobTests.Gateway gateway) : IClassFixture<StaleTokensBeforeTheJobTests.Gateway>
{
    public sealed class Gateway : DeliveryGateway
    {
        /// <summary>When the stale-token job has had its first (and, for a day, last) run.</summary>
        public DateTimeOffset JobRanBy { get; private set; }

        protected override IDictionary<string, string?> Settings
        {
            get
            {
                var settings = base.Settings;
                settings["StaleTokens:Interval"] = "1.00:00:00";
                return settings;
            }
        }

        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            JobRanBy = DateTimeOffset.UtcNow.AddSeconds(12);
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StaleFcmToken_NotYetDisabled_IsSkipped_NotSent_AndStaysEnabled()
    {
        var wait = gateway.JobRanBy - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, Ct);
        }

        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateFcmAppAsync(project.Client, Ct);
        var staleToken = TestCredentials.FcmToken();
        var freshToken = TestCredentials.FcmToken();
        await project.Client.PutAsync("v1/topics/everyone", null, Ct);
        var stale = (await project.Client.CreateEndpointAsync(appId, staleToken, Ct)).Id();
        var fresh = (await project.Client.CreateEndpointAsync(appId, freshToken, Ct)).Id();
        foreach (var id in new[] { stale, fresh })
        {
            await project.Client.PutAsync($"v1/topics/everyone/subscriptions/{id}", null, Ct);
        }

        await gateway.ScalarAsync<int>("UPDATE endpoints SET token_updated_at = now() - interval '300 days' WHERE id = @id", Ct, ("id", stale));

        gateway.Simulator.State.ClearReceived();
        var messageId = await DeliveryGateway.SendAsync(project.Client, new { target = new { topic = "everyone" }, notification = new { title = "t" } }, Ct);
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        Assert.Equal(1, message["counts"]!["delivered"]!.GetValue<long>());
        Assert.Equal(1, message["counts"]!["skipped"]!.GetValue<long>());

        var deliveries = (await project.Client.GetFromJsonAsync<JsonObject>($"v1/messages/{messageId}/deliveries", Ct))!["items"]!.AsArray();
        var skipped = deliveries.Single(d => d!["endpointId"]!.GetValue<Guid>() == stale)!;
        Assert.Equal("skipped", skipped["state"]!.GetValue<string>());
        Assert.StartsWith("endpoint stale", skipped["provider"]!["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(gateway.Simulator.State.GetReceived(token: staleToken).Items);
        Assert.Single(gateway.Simulator.State.GetReceived(token: freshToken).Items);

        // The decision only skips; disabling (with its event) is the job's.
        Assert.True((await project.Client.GetFromJsonAsync<JsonObject>($"v1/endpoints/{stale}", Ct))!["enabled"]!.GetValue<bool>());
    }
}
