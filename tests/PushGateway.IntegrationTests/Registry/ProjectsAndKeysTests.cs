using System.Net;
using System.Net.Http.Json;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Registry;

public sealed class ProjectsAndKeysTests(TestGateway gateway) : IClassFixture<TestGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CreateProject_WithAdminKey_Returns201AndCanBeRead()
    {
        using var admin = gateway.Admin();
        var created = await admin.PostAsJsonAsync("v1/projects", new { name = "acme" }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.ReadObjectAsync(Ct);
        Assert.Equal("acme", body["name"].Str());
        Assert.NotNull(body["createdAt"]);

        var read = await admin.GetAsync($"v1/projects/{body.Id()}", Ct);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(body.Id(), (await read.ReadObjectAsync(Ct)).Id());
    }

    [Fact]
    public async Task GetProject_Unknown_Returns404Problem()
    {
        using var admin = gateway.Admin();
        var response = await admin.GetAsync($"v1/projects/{Guid.NewGuid()}", Ct);
        await response.AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
    }

    [Fact]
    public async Task ApiKey_IsShownOnceAndStoredOnlyAsHash()
    {
        var project = await gateway.NewProjectAsync(Ct);
        Assert.StartsWith("pgk_", project.Key, StringComparison.Ordinal);
        var stored = await gateway.ScalarAsync<string>("SELECT key_hash FROM api_keys WHERE id = @id", Ct, ("id", project.KeyId));
        Assert.NotNull(stored);
        Assert.DoesNotContain(project.Key, stored, StringComparison.Ordinal);
        Assert.Equal(0, await gateway.ScalarAsync<long>("SELECT count(*) FROM api_keys WHERE key_hash = @k OR prefix = @k", Ct, ("k", project.Key)));

        using var admin = gateway.Admin();
        var listed = await admin.GetStringAsync($"v1/projects/{project.ProjectId}/api-keys", Ct);
        Assert.DoesNotContain(project.Key, listed, StringComparison.Ordinal);
        Assert.Contains(project.KeyId.ToString(), listed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RevokedKey_StopsWorkingAtOnce()
    {
        var project = await gateway.NewProjectAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, (await project.Client.GetAsync("v1/applications", Ct)).StatusCode);

        using var admin = gateway.Admin();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"v1/projects/{project.ProjectId}/api-keys/{project.KeyId}", Ct)).StatusCode);

        await (await project.Client.GetAsync("v1/applications", Ct)).AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized", Ct);
        await (await admin.DeleteAsync($"v1/projects/{project.ProjectId}/api-keys/{project.KeyId}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("pgk_not-a-real-key")]
    [InlineData("test-admin-key-0123456789x")]
    public async Task ProjectRoute_WithoutValidKey_Returns401(string? key)
    {
        using var client = gateway.Client(key);
        await (await client.GetAsync("v1/applications", Ct)).AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized", Ct);
    }

    [Fact]
    public async Task WrongKindOfKey_Returns403()
    {
        var project = await gateway.NewProjectAsync(Ct);
        await (await project.Client.PostAsJsonAsync("v1/projects", new { name = "x" }, Ct)).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden", Ct);
        await (await project.Client.GetAsync($"v1/projects/{project.ProjectId}", Ct)).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden", Ct);

        using var admin = gateway.Admin();
        await (await admin.GetAsync("v1/applications", Ct)).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden", Ct);
    }

    [Fact]
    public async Task AdminRoute_WithoutKey_Returns401()
    {
        using var anonymous = gateway.Client();
        await (await anonymous.PostAsJsonAsync("v1/projects", new { name = "x" }, Ct)).AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized", Ct);
    }

    [Fact]
    public async Task CreateApiKey_ForUnknownProject_Returns404()
    {
        using var admin = gateway.Admin();
        await (await admin.PostAsJsonAsync($"v1/projects/{Guid.NewGuid()}/api-keys", new { name = "k" }, Ct))
            .AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
    }
}
