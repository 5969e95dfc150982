using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Registry;

/// <summary>
/// Every list route pages the same way: <c>limit</c> (1..1000, default 100), <c>cursor</c>, and <c>nextCursor</c> in
/// the answer, null on the last page. Each test lists more items than one page holds and follows the cursors.
/// </summary>
public sealed class ListPaginationTests(TestGateway gateway) : IClassFixture<TestGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Follows nextCursor with pages of <paramref name="limit"/>; returns every item's <paramref name="key"/> and the page count.</summary>
    private static async Task<(List<string> Keys, int Pages)> ReadAllAsync(HttpClient client, string path, int limit, string key = "id")
    {
        var keys = new List<string>();
        var pages = 0;
        string? cursor = null;
        do
        {
            var separator = path.Contains('?') ? '&' : '?';
            var url = $"{path}{separator}limit={limit}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            var response = await client.GetAsync(url, Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {text}");
            var page = JsonNode.Parse(text)!.AsObject();
            var items = page["items"]!.AsArray();
            Assert.True(items.Count <= limit, $"{url} answered {items.Count} items for limit={limit}.");
            keys.AddRange(items.Select(i => i![key]!.ToString()));
            Assert.True(page.ContainsKey("nextCursor"), $"{url}: no nextCursor in {text}");
            cursor = page["nextCursor"]?.GetValue<string>();
            pages++;
            Assert.True(pages < 100, "The cursors do not end.");
        }
        while (cursor is not null);

        return (keys, pages);
    }

    private static async Task AssertBadPageAsync(HttpClient client, string path)
    {
        var separator = path.Contains('?') ? '&' : '?';
        foreach (var (query, field) in new[] { ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=x", "limit"), ("cursor=not-a-cursor!", "cursor") })
        {
            var problem = await (await client.GetAsync($"{path}{separator}{query}", Ct)).AssertProblemAsync(HttpStatusCode.BadRequest, "validation", Ct);
            Assert.True(problem["errors"]?[field] is not null, $"{path}?{query}: {problem}");
        }
    }

    [Fact]
    public async Task Topics_PageByName()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var names = Enumerable.Range(0, 7).Select(i => $"t-{i:D2}").ToList();
        foreach (var name in names.AsEnumerable().Reverse())
        {
            Assert.Equal(HttpStatusCode.Created, (await project.Client.PutAsync($"v1/topics/{name}", null, Ct)).StatusCode);
        }

        var (keys, pages) = await ReadAllAsync(project.Client, "v1/topics", 3, "name");
        Assert.Equal(names, keys);
        Assert.Equal(3, pages);
        // The default page holds all seven; its nextCursor is null.
        var first = (await project.Client.GetFromJsonAsync<JsonObject>("v1/topics", Ct))!;
        Assert.Equal(7, first["items"]!.AsArray().Count);
        Assert.Null(first["nextCursor"]);
        await AssertBadPageAsync(project.Client, "v1/topics");
    }

    [Fact]
    public async Task Applications_Page()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await project.Client.CreateFcmAppAsync(Ct)).ToString());
        }

        var (keys, pages) = await ReadAllAsync(project.Client, "v1/applications", 2);
        Assert.Equal(ids.Order(), keys.Order());
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.Equal(3, pages);
        await AssertBadPageAsync(project.Client, "v1/applications");
    }

    [Fact]
    public async Task UserEndpoints_Page()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var app = await project.Client.CreateFcmAppAsync(Ct);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await project.Client.CreateEndpointAsync(app, TestCredentials.FcmToken(), Ct, userId: "paged")).Id().ToString());
        }

        await project.Client.CreateEndpointAsync(app, TestCredentials.FcmToken(), Ct, userId: "someone-else");
        var (keys, pages) = await ReadAllAsync(project.Client, "v1/users/paged/endpoints", 2);
        Assert.Equal(ids.Order(), keys.Order());
        Assert.Equal(3, pages);
        await AssertBadPageAsync(project.Client, "v1/users/paged/endpoints");
    }

    [Fact]
    public async Task Projects_ApiKeys_AndSnsCredentials_Page()
    {
        using var admin = gateway.Admin();
        var project = await gateway.NewProjectAsync(Ct);
        var keyIds = new List<string> { project.KeyId.ToString() };
        var snsIds = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var key = await admin.PostAsJsonAsync($"v1/projects/{project.ProjectId}/api-keys", new { name = $"k{i}" }, Ct);
            keyIds.Add((await key.ReadObjectAsync(Ct)).Id().ToString());
            var sns = await admin.PostAsJsonAsync($"v1/projects/{project.ProjectId}/sns-credentials", new { name = $"s{i}" }, Ct);
            snsIds.Add((await sns.ReadObjectAsync(Ct)).Id().ToString());
        }

        var keys = await ReadAllAsync(admin, $"v1/projects/{project.ProjectId}/api-keys", 2);
        Assert.Equal(keyIds.Order(), keys.Keys.Order());
        Assert.Equal(3, keys.Pages);
        var credentials = await ReadAllAsync(project.Client, $"v1/projects/{project.ProjectId}/sns-credentials", 3);
        Assert.Equal(snsIds.Order(), credentials.Keys.Order());
        Assert.Equal(2, credentials.Pages);

        var projectIds = new List<string> { project.ProjectId.ToString() };
        for (var i = 0; i < 4; i++)
        {
            projectIds.Add((await gateway.NewProjectAsync(Ct)).ProjectId.ToString());
        }

        // Other tests of this class create projects too: every one of these appears exactly once.
        var projects = await ReadAllAsync(admin, "v1/projects", 2);
        Assert.Equal(projects.Keys.Count, projects.Keys.Distinct().Count());
        Assert.Subset(projects.Keys.ToHashSet(), projectIds.ToHashSet());
        Assert.True(projects.Pages >= 3, $"{projects.Keys.Count} projects in {projects.Pages} pages.");

        await AssertBadPageAsync(admin, "v1/projects");
        await AssertBadPageAsync(admin, $"v1/projects/{project.ProjectId}/api-keys");
        await AssertBadPageAsync(project.Client, $"v1/projects/{project.ProjectId}/sns-credentials");
    }
}
