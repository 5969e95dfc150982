using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Delivery;

/// <summary>
/// Stale tokens age out: FCM tokens the app has not confirmed for 270 days (the default) are listed as stale, disabled
/// by the background job in bounded batches with reason <c>stale</c> and an event, not sent to, and revived by a
/// registration; APNs tokens never go stale unless configured.
/// </summary>
public sealed class StaleTokensTests(StaleTokensTests.Gateway gateway) : IClassFixture<StaleTokensTests.Gateway>
{
    public sealed class Gateway : DeliveryGateway
    {
        protected override IDictionary<string, string?> Settings
        {
            get
            {
                var settings = base.Settings;
                settings["StaleTokens:Interval"] = "00:00:00.300";
                settings["StaleTokens:BatchSize"] = "2";
                return settings;
            }
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<List<Guid>> SeedAsync(ProjectContext project, Guid appId, IReadOnlyList<(string Token, int DaysOld)> tokens)
    {
        await project.Client.PutAsync("v1/topics/everyone", null, Ct);
        var ids = new List<Guid>();
        foreach (var (token, days) in tokens)
        {
            var endpoint = await project.Client.CreateEndpointAsync(appId, token, Ct);
            ids.Add(endpoint.Id());
            await project.Client.PutAsync($"v1/topics/everyone/subscriptions/{endpoint.Id()}", null, Ct);
            await gateway.ScalarAsync<int>("UPDATE endpoints SET token_updated_at = now() - make_interval(days => @d) WHERE id = @id", Ct, ("d", days), ("id", endpoint.Id()));
        }

        return ids;
    }

    private async Task<List<Guid>> ListAsync(ProjectContext project, Guid appId, string query)
    {
        var page = (await project.Client.GetFromJsonAsync<JsonObject>($"v1/applications/{appId}/endpoints?{query}", Ct))!;
        return page["items"]!.AsArray().Select(i => i!["id"]!.GetValue<Guid>()).ToList();
    }

    [Fact]
    public async Task FcmTokensUnconfirmedFor270Days_AreListed_DisabledAsStale_NotSentTo_AndRevivedByRegistration()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateFcmAppAsync(project.Client, Ct);
        var tokens = Enumerable.Range(0, 6).Select(_ => TestCredentials.FcmToken()).ToList();
        // Five stale (more than one batch of 2), one confirmed 200 days ago.
        var ids = await SeedAsync(project, appId, tokens.Take(5).Select(t => (t, 300)).Append((tokens[5], 200)).ToList());

        var listed = await ListAsync(project, appId, "stale=true");
        Assert.Equal(ids.Take(5).Order(), listed.Order());
        Assert.Equal([ids[5]], await ListAsync(project, appId, "stale=false"));
        await (await project.Client.GetAsync($"v1/applications/{appId}/endpoints?stale=maybe", Ct)).AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);

        await DeliveryGateway.WaitUntilAsync(async () => await gateway.ScalarAsync<long>(
            "SELECT count(*) FROM endpoints WHERE application_id = @a AND NOT enabled AND disabled_reason = 'stale'", Ct, ("a", appId)) == 5, Ct, TimeSpan.FromSeconds(30), "stale endpoints disabled");
        Assert.True((await project.Client.GetFromJsonAsync<JsonObject>($"v1/endpoints/{ids[5]}", Ct))!["enabled"]!.GetValue<bool>());
        Assert.Equal(5, await gateway.ScalarAsync<long>("SELECT count(*) FROM events WHERE application_id = @a AND type = 'endpointUpdated'", Ct, ("a", appId)));

        gateway.Simulator.State.ClearReceived();
        var message = await DeliveryGateway.WaitForMessageAsync(project.Client,
            await DeliveryGateway.SendAsync(project.Client, new { target = new { topic = "everyone" }, notification = new { title = "t" } }, Ct), Ct);
        Assert.Equal(1, message["counts"]!["delivered"]!.GetValue<long>());
        Assert.Empty(gateway.Simulator.State.GetReceived(token: tokens[0]).Items);

        // The app is opened again and registers its token: the endpoint is back and no longer stale.
        var (status, registered) = await project.Client.RegisterAsync(appId, new { token = tokens[0] }, Ct);
        Assert.True(status is HttpStatusCode.OK or HttpStatusCode.Created, registered.ToJsonString());
        Assert.True(registered["endpoint"]!["enabled"]!.GetValue<bool>());
        Assert.DoesNotContain(ids[0], await ListAsync(project, appId, "stale=true"));
    }

    [Fact]
    public async Task ApnsTokens_NeverStale_ByDefault()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct);
        var ids = await SeedAsync(project, appId, [(TestCredentials.ApnsTokenHex(), 1000)]);
        Assert.Empty(await ListAsync(project, appId, "stale=true"));
        await Task.Delay(1000, Ct);
        Assert.True((await project.Client.GetFromJsonAsync<JsonObject>($"v1/endpoints/{ids[0]}", Ct))!["enabled"]!.GetValue<bool>());
    }
}
