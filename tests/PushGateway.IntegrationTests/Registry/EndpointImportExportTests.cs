using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Registry;

/// <summary>Bulk NDJSON import (SNS create semantics per line) and export of an application's endpoints.</summary>
public sealed class EndpointImportExportTests(TestGateway gateway) : IClassFixture<TestGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The gateway's import batch size (EndpointImport.BatchSize).</summary>
    private const int EndpointImportBatch = 2000;

    private static async Task<(HttpStatusCode Status, JsonObject Body)> ImportAsync(HttpClient client, Guid appId, string ndjson, string query = "")
    {
        var content = new StringContent(ndjson, Encoding.UTF8, "application/x-ndjson");
        var response = await client.PostAsync($"v1/applications/{appId}/endpoints/import{query}", content, Ct);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!.AsObject());
    }

    [Fact]
    public async Task Import_CountsEachKind_KeepsConflictsUnchanged_AndExportRoundTrips()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateFcmAppAsync(Ct);
        var existing = await project.Client.CreateEndpointAsync(appId, "tok-existing", Ct, userId: "u0");
        var lines = new StringBuilder();
        for (var i = 0; i < 2500; i++)
        {
            lines.Append($$"""{"token":"tok-{{i}}","customUserData":"d{{i}}","userId":"user-{{i % 7}}","topics":["all","t{{i % 3}}"]}""").Append('\n');
        }

        lines.Append("""{"token":"tok-existing","userId":"u0"}""").Append('\n');           // same: kept
        lines.Append("""{"token":"tok-existing","userId":"someone-else"}""").Append('\n'); // conflict
        lines.Append("not json\n");
        lines.Append("""{"token":"has space"}""").Append('\n');
        lines.Append("""{"token":"tok-x","enabled":"yes"}""").Append('\n');
        lines.Append("""{"token":"tok-disabled","enabled":false}""").Append('\n');
        var before = await gateway.ScalarAsync<long>("SELECT count(*) FROM events WHERE application_id = @a", Ct, ("a", appId));

        var (status, summary) = await ImportAsync(project.Client, appId, lines.ToString());
        Assert.True(status == HttpStatusCode.OK, summary.ToJsonString());
        Assert.Equal(2506, summary["lines"]!.GetValue<long>());
        Assert.Equal(2501, summary["created"]!.GetValue<long>());
        Assert.Equal(1, summary["existing"]!.GetValue<long>());
        Assert.Equal(1, summary["conflicts"]!.GetValue<long>());
        Assert.Equal(3, summary["invalid"]!.GetValue<long>());
        var problems = summary["problems"]!.AsArray();
        Assert.Equal([2502L, 2503, 2504, 2505], problems.Select(p => p!["line"]!.GetValue<long>()));
        Assert.Equal("conflict", problems[0]!["kind"]!.GetValue<string>());
        Assert.Equal(existing.Id(), problems[0]!["endpointId"]!.GetValue<Guid>());
        Assert.Equal("u0", await gateway.ScalarAsync<string>("SELECT user_id FROM endpoints WHERE id = @id", Ct, ("id", existing.Id())));
        Assert.Equal(2502L, await gateway.ScalarAsync<long>("SELECT count(*) FROM endpoints WHERE application_id = @a", Ct, ("a", appId)));
        Assert.Equal(2500L, await gateway.ScalarAsync<long>(
            "SELECT count(*) FROM topic_subscriptions s JOIN topics t ON t.id = s.topic_id WHERE t.project_id = @p AND t.name = 'all'", Ct, ("p", project.ProjectId)));
        Assert.False(await gateway.ScalarAsync<bool>("SELECT enabled FROM endpoints WHERE token = 'tok-disabled'", Ct));
        // Events are a choice, off by default.
        Assert.Equal(before, await gateway.ScalarAsync<long>("SELECT count(*) FROM events WHERE application_id = @a", Ct, ("a", appId)));

        // Importing the same file again creates nothing.
        var (_, again) = await ImportAsync(project.Client, appId, lines.ToString());
        Assert.Equal(0, again["created"]!.GetValue<long>());
        Assert.Equal(2502, again["existing"]!.GetValue<long>());

        var export = await project.Client.GetAsync($"v1/applications/{appId}/endpoints/export", Ct);
        Assert.Equal("application/x-ndjson", export.Content.Headers.ContentType?.MediaType);
        var exported = (await export.Content.ReadAsStringAsync(Ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(2502, exported.Count);
        var ids = exported.Select(e => e["id"]!.GetValue<Guid>()).ToList();
        Assert.Equal(ids.Order(), ids);
        var one = exported.Single(e => e["token"]!.GetValue<string>() == "tok-5");
        Assert.Equal("d5", one["customUserData"]!.GetValue<string>());
        Assert.Equal("user-5", one["userId"]!.GetValue<string>());
        Assert.Equal(["all", "t2"], one["topics"]!.AsArray().Select(t => t!.GetValue<string>()));

        // The export imports into another application as it is.
        var otherApp = await project.Client.CreateFcmAppAsync(Ct);
        var (_, copied) = await ImportAsync(project.Client, otherApp, string.Join('\n', exported.Select(e => e.ToJsonString())), "?events=created");
        Assert.Equal(2502, copied["created"]!.GetValue<long>());
        Assert.Equal(2502L, await gateway.ScalarAsync<long>("SELECT count(*) FROM events WHERE application_id = @a AND type = 'endpointCreated'", Ct, ("a", otherApp)));
    }

    /// <summary>
    /// The export reads a page of endpoints and then the subscriptions of that id range per topic of the project: more
    /// than one page (10,000), each line with exactly its own topics, none of another application's endpoints or topics.
    /// </summary>
    [Fact]
    public async Task Export_OverSeveralPages_EachLineHasItsOwnTopics_AndNothingOfTheProjectsOtherApplication()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateFcmAppAsync(Ct);
        var otherApp = await project.Client.CreateFcmAppAsync(Ct);
        const int count = 10_500;
        var lines = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            var topics = i % 5 == 0 ? "[]" : $"[\"t{i % 4}\",\"all\"]";
            lines.Append($$"""{"token":"exp-{{i}}","topics":{{topics}}}""").Append('\n');
        }

        var (status, summary) = await ImportAsync(project.Client, appId, lines.ToString());
        Assert.True(status == HttpStatusCode.OK && summary["created"]!.GetValue<long>() == count, summary.ToJsonString());
        var others = new StringBuilder();
        for (var i = 0; i < 600; i++)
        {
            others.Append($$"""{"token":"other-{{i}}","topics":["b-only","all"]}""").Append('\n');
        }

        Assert.Equal(HttpStatusCode.OK, (await ImportAsync(project.Client, otherApp, others.ToString())).Status);

        var export = await project.Client.GetAsync($"v1/applications/{appId}/endpoints/export", Ct);
        var exported = (await export.Content.ReadAsStringAsync(Ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(count, exported.Count);
        var ids = exported.Select(e => e["id"]!.GetValue<Guid>()).ToList();
        Assert.Equal(count, ids.Distinct().Count());
        foreach (var line in exported)
        {
            var i = int.Parse(line["token"]!.GetValue<string>()["exp-".Length..], System.Globalization.CultureInfo.InvariantCulture);
            string[] expected = i % 5 == 0 ? [] : ["all", $"t{i % 4}"];
            Assert.Equal(expected, line["topics"]!.AsArray().Select(t => t!.GetValue<string>()).ToArray());
        }
    }

    [Fact]
    public async Task Import_TokenRepeatedInALaterBatch_IsDecidedInFileOrder()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateFcmAppAsync(Ct);
        var lines = new StringBuilder();
        var topics = string.Join(',', Enumerable.Range(0, 10).Select(t => $"\"t{t}\""));
        for (var i = 0; i < EndpointImportBatch; i++)
        {
            lines.Append($$"""{"token":"tok-{{i}}","userId":"first","topics":[{{topics}}]}""").Append('\n');
        }

        // A small second batch, written by the other writer while the first one is still at work: the earlier line still wins.
        lines.Append("""{"token":"tok-0","userId":"second"}""").Append('\n');
        lines.Append("""{"token":"tok-1999","userId":"first"}""").Append('\n');

        var (status, summary) = await ImportAsync(project.Client, appId, lines.ToString());
        Assert.True(status == HttpStatusCode.OK, summary.ToJsonString());
        Assert.Equal(EndpointImportBatch, summary["created"]!.GetValue<long>());
        Assert.Equal(1, summary["existing"]!.GetValue<long>());
        Assert.Equal(1, summary["conflicts"]!.GetValue<long>());
        Assert.Equal(EndpointImportBatch + 1L, summary["problems"]!.AsArray().Single()!["line"]!.GetValue<long>());
        Assert.Equal("first", await gateway.ScalarAsync<string>("SELECT user_id FROM endpoints WHERE application_id = @a AND token = 'tok-0'", Ct, ("a", appId)));
    }

    [Fact]
    public async Task ImportAndExport_OfAnotherProjectsApplication_Answer404AndWriteNothing()
    {
        var owner = await gateway.NewProjectAsync(Ct);
        var appId = await owner.Client.CreateFcmAppAsync(Ct);
        var other = await gateway.NewProjectAsync(Ct);
        var import = await other.Client.PostAsync($"v1/applications/{appId}/endpoints/import",
            new StringContent("""{"token":"tok-intruder"}""" + "\n", Encoding.UTF8, "application/x-ndjson"), Ct);
        await import.AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        var export = await other.Client.GetAsync($"v1/applications/{appId}/endpoints/export", Ct);
        await export.AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        Assert.Equal(0L, await gateway.ScalarAsync<long>("SELECT count(*) FROM endpoints WHERE application_id = @a", Ct, ("a", appId)));
    }

    [Fact]
    public async Task Import_RefusesOtherMediaTypes_AndUnknownApplications()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateFcmAppAsync(Ct);
        var json = await project.Client.PostAsync($"v1/applications/{appId}/endpoints/import", new StringContent("{}", Encoding.UTF8, "application/json"), Ct);
        await json.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported-media-type", Ct);
        var unknown = await project.Client.PostAsync($"v1/applications/{Guid.NewGuid()}/endpoints/import", new StringContent("", Encoding.UTF8, "application/x-ndjson"), Ct);
        await unknown.AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
    }
}
