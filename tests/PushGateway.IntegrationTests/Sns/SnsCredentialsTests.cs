using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PushGateway.Hosting;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.Sns;

namespace PushGateway.IntegrationTests.Sns;

/// <summary>The SNS access keys of a project: minted once, listed without secrets, sealed at rest, revocable, rotated with the encryption key.</summary>
public sealed class SnsCredentialsTests(TestGateway gateway) : IClassFixture<TestGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Create_ShowsTheSecretOnce_ListNeverDoes_AndTheDatabaseHoldsOnlyCiphertext()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var keys = await SnsTools.CreateKeysAsync(project.Client, project.ProjectId, Ct);
        Assert.Matches("^PGSN[A-Z2-7]{16}$", keys.AccessKeyId);
        Assert.Equal(40, keys.SecretAccessKey.Length);
        Assert.Equal(SnsAccount.For(project.ProjectId), keys.AccountId);

        var listText = await project.Client.GetStringAsync($"v1/projects/{project.ProjectId}/sns-credentials", Ct);
        Assert.DoesNotContain(keys.SecretAccessKey, listText);
        var item = Assert.Single(JsonNode.Parse(listText)!["items"]!.AsArray())!;
        Assert.Equal(keys.AccessKeyId, item["accessKeyId"]!.GetValue<string>());
        Assert.Null(item["secretAccessKey"]);
        Assert.Null(item["revokedAt"]);

        await using var connection = new NpgsqlConnection(gateway.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("SELECT secret_ciphertext FROM sns_credentials WHERE access_key_id = @k", connection);
        command.Parameters.AddWithValue("k", keys.AccessKeyId);
        var stored = (byte[])(await command.ExecuteScalarAsync(Ct))!;
        Assert.Equal(2, stored[0]); // SecretBox format 2
        Assert.DoesNotContain(keys.SecretAccessKey, Encoding.UTF8.GetString(stored));
    }

    [Fact]
    public async Task AProjectKey_ManagesOnlyItsOwnProject_TheAdminKeyAny()
    {
        var mine = await gateway.NewProjectAsync(Ct);
        var theirs = await gateway.NewProjectAsync(Ct);
        var response = await mine.Client.PostAsJsonAsync($"v1/projects/{theirs.ProjectId}/sns-credentials", new { }, Ct);
        await response.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden", Ct);
        var list = await mine.Client.GetAsync($"v1/projects/{theirs.ProjectId}/sns-credentials", Ct);
        await list.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden", Ct);
        Assert.Equal(0L, await gateway.ScalarAsync<long>("SELECT count(*) FROM sns_credentials WHERE project_id = @p", Ct, ("p", theirs.ProjectId)));

        var keys = await SnsTools.CreateKeysAsync(gateway.Admin(), theirs.ProjectId, Ct);
        var revokeOthers = await mine.Client.DeleteAsync($"v1/projects/{theirs.ProjectId}/sns-credentials/{keys.AccessKeyId}", Ct);
        await revokeOthers.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden", Ct);
        var unknown = await gateway.Admin().PostAsJsonAsync($"v1/projects/{Guid.NewGuid()}/sns-credentials", new { }, Ct);
        await unknown.AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
        var anonymous = await gateway.Client().GetAsync($"v1/projects/{theirs.ProjectId}/sns-credentials", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        var revoke = await gateway.Admin().DeleteAsync($"v1/projects/{theirs.ProjectId}/sns-credentials/{keys.AccessKeyId}", Ct);
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        var again = await gateway.Admin().DeleteAsync($"v1/projects/{theirs.ProjectId}/sns-credentials/{keys.AccessKeyId}", Ct);
        await again.AssertProblemAsync(HttpStatusCode.NotFound, "not-found", Ct);
    }

    [Fact]
    public async Task KeyRotation_ResealsSnsSecrets_UnderTheNewKey()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var keys = await SnsTools.CreateKeysAsync(project.Client, project.ProjectId, Ct);
        var oldKey = Convert.FromBase64String(TestGateway.EncryptionKey);
        var newKey = RandomNumberGenerator.GetBytes(32);
        await using var dataSource = NpgsqlDataSource.Create(gateway.ConnectionString);
        var newOnly = new SecretBox(newKey);
        Assert.True(await SnsSecretReencryption.CountUndecryptableAsync(dataSource, newOnly, Ct) >= 1);

        var (reencrypted, skipped) = await SnsSecretReencryption.RunAsync(dataSource, new SecretBox(newKey, oldKey), Ct);
        Assert.True(reencrypted >= 1);
        Assert.Equal(0, skipped);
        Assert.Equal(0, await SnsSecretReencryption.CountUndecryptableAsync(dataSource, newOnly, Ct));
        await using var scope = gateway.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PushGateway.Data.PushGatewayDbContext>();
        var caller = await SnsCredentials.FindAsync(db, newOnly, keys.AccessKeyId, Ct);
        Assert.Equal(keys.SecretAccessKey, caller!.Secret);
    }
}
