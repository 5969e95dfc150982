using System.Net;
using System.Net.Http.Json;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Cli;

/// <summary><c>app</c> and <c>endpoint</c> commands against a real gateway.</summary>
public sealed class CliRegistryTests(TestGateway gateway) : IClassFixture<TestGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AppListAndShow_ShowApplications_NeverSecrets()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct, environment: "sandbox", bundleId: "com.example.cli");

        var list = await CliRunner.RunAsync(gateway.BaseAddress, project.Key, Ct, "app", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.StartsWith("ID ", list.Out, StringComparison.Ordinal);
        var row = Assert.Single(list.Rows());
        Assert.StartsWith(appId.ToString(), row, StringComparison.Ordinal);
        Assert.Contains(" apns ", row, StringComparison.Ordinal);
        Assert.Contains(" sandbox ", row, StringComparison.Ordinal);
        Assert.Contains(" yes ", row, StringComparison.Ordinal);

        var show = await CliRunner.RunAsync(gateway.BaseAddress, project.Key, Ct, "app", "show", appId.ToString());
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Equal(appId.ToString(), show.Value("id"));
        Assert.Equal("apns", show.Value("platform"));
        Assert.Equal("sandbox", show.Value("environment"));
        Assert.Equal("token", show.Value("credentials.type"));
        Assert.Equal("com.example.cli", show.Value("credentials.bundleId"));
        Assert.DoesNotContain("PRIVATE KEY", show.Out, StringComparison.Ordinal);

        var json = (await CliRunner.RunAsync(gateway.BaseAddress, project.Key, Ct, "--json", "app", "show", appId.ToString())).Json();
        Assert.Equal(appId, json["id"]!.GetValue<Guid>());
        Assert.Equal("com.example.cli", json["credentials"]!["bundleId"]!.GetValue<string>());

        var missing = await CliRunner.RunAsync(gateway.BaseAddress, project.Key, Ct, "app", "show", Guid.NewGuid().ToString());
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("(HTTP 404, not-found)", missing.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EndpointRegisterAndShow_PrintOutcomeAndShortenedToken()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var token = TestCredentials.ApnsTokenHex();

        var created = await CliRunner.RunAsync(gateway.BaseAddress, project.Key, Ct,
            "endpoint", "register", "--app", appId.ToString(), "--token", token, "--user", "alice");
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Equal("created", created.Value("outcome"));
        Assert.Equal("alice", created.Value("userId"));
        Assert.Equal("yes", created.Value("enabled"));
        var endpointId = Guid.Parse(created.Value("id"));
        Assert.Equal($"{token[..8]}...{token[^4..]} (64 chars)", created.Value("token"));
        Assert.DoesNotContain(token, created.Out, StringComparison.Ordinal);

        var again = await CliRunner.RunAsync(gateway.BaseAddress, project.Key, Ct,
            "endpoint", "register", "--app", appId.ToString(), "--token", token, "--user", "alice");
        Assert.Equal("unchanged", again.Value("outcome"));
        Assert.Equal(endpointId.ToString(), again.Value("id"));

        // The app's stored endpoint id with a new token: the same endpoint carries the new token.
        var newToken = TestCredentials.ApnsTokenHex();
        var updated = await CliRunner.RunAsync(gateway.BaseAddress, project.Key, Ct, "--json",
            "endpoint", "register", "--app", appId.ToString(), "--token", newToken, "--endpoint", endpointId.ToString());
        Assert.True(updated.ExitCode == 0, updated.ToString());
        Assert.Equal("updated", updated.Json()["outcome"]!.GetValue<string>());
        Assert.Equal(newToken, updated.Json()["endpoint"]!["token"]!.GetValue<string>());

        var shown = await CliRunner.RunAsync(gateway.BaseAddress, project.Key, Ct, "endpoint", "show", endpointId.ToString());
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Equal(endpointId.ToString(), shown.Value("id"));
        Assert.Equal(appId.ToString(), shown.Value("applicationId"));
        Assert.Equal("alice", shown.Value("userId"));
        Assert.StartsWith(newToken[..8], shown.Value("token"), StringComparison.Ordinal);
        Assert.DoesNotContain(newToken, shown.Out, StringComparison.Ordinal);

        var json = (await CliRunner.RunAsync(gateway.BaseAddress, project.Key, Ct, "endpoint", "show", endpointId.ToString(), "--json")).Json();
        Assert.Equal(newToken, json["token"]!.GetValue<string>());

        var invalid = await CliRunner.RunAsync(gateway.BaseAddress, project.Key, Ct, "endpoint", "register", "--app", appId.ToString(), "--token", "xyz");
        Assert.Equal(1, invalid.ExitCode);
        Assert.Contains("  token: ", invalid.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EndpointList_FollowsNextCursor_AndFilters()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateApnsAppAsync(Ct);
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            var endpoint = await project.Client.CreateEndpointAsync(appId, TestCredentials.ApnsTokenHex(), Ct, userId: i < 2 ? "bob" : null);
            ids.Add(endpoint.Id());
        }

        var patch = await project.Client.PatchAsJsonAsync($"v1/endpoints/{ids[4]}", new { enabled = false }, Ct);
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);

        // Pages of 2: five endpoints take three requests, the last two with the cursor the API returned.
        var handler = new RecordingHandler { InnerHandler = new SocketsHttpHandler() };
        var environment = CliRunner.Isolated(pageSize: 2);
        string[] Args(params string[] rest) => ["--url", gateway.BaseAddress.ToString(), "--key", project.Key, "endpoint", "list", "--app", appId.ToString(), .. rest];

        var all = await CliRunner.RunAsync(Args(), Ct, environment, handler);
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.StartsWith("ID ", all.Out, StringComparison.Ordinal);
        Assert.Equal(ids.Select(i => i.ToString()), all.Rows().Select(r => r[..36]));
        Assert.Equal(3, handler.Requests.Count);
        Assert.Equal(2, handler.Requests.Count(r => r.Contains("cursor=", StringComparison.Ordinal)));
        Assert.Contains(all.Rows(), r => r.StartsWith(ids[4].ToString(), StringComparison.Ordinal) && r.Contains(" no", StringComparison.Ordinal));

        var json = await CliRunner.RunAsync(["--json", .. Args()], Ct, environment);
        Assert.Equal(ids, json.Json()["items"]!.AsArray().Select(e => e!["id"]!.GetValue<Guid>()));
        Assert.Null(json.Json()["nextCursor"]);

        var limited = await CliRunner.RunAsync(Args("--limit", "3"), Ct, environment);
        Assert.Equal(ids.Take(3).Select(i => i.ToString()), limited.Rows().Select(r => r[..36]));
        Assert.Contains("more endpoints exist", limited.Err, StringComparison.Ordinal);

        var bob = await CliRunner.RunAsync(Args("--user", "bob"), Ct, environment);
        Assert.Equal(ids.Take(2).Select(i => i.ToString()), bob.Rows().Select(r => r[..36]));
        Assert.All(bob.Rows(), r => Assert.Contains(" bob ", r, StringComparison.Ordinal));

        var disabled = await CliRunner.RunAsync(Args("--enabled", "false"), Ct, environment);
        Assert.Equal(ids[4].ToString(), Assert.Single(disabled.Rows())[..36]);

        var nobody = await CliRunner.RunAsync(Args("--user", "nobody"), Ct, environment);
        Assert.Equal(0, nobody.ExitCode);
        Assert.Equal("No endpoints.", nobody.Out.Trim());
    }
}
