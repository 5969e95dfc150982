using System.IO.Pipelines;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Registry;

/// <summary>An import cut off by the database half way: every committed batch whole, and the answer says where to resume.</summary>
public sealed class EndpointImportFailureTests(TestGateway gateway) : IClassFixture<TestGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Line(int i) => $$"""{"token":"tok-{{i}}","userId":"user-{{i}}","topics":["all"]}""" + "\n";

    [Fact]
    public async Task DatabaseLostHalfWay_Answers503WithCommittedLines_AndResumingFromThereCompletesTheFile()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await project.Client.CreateFcmAppAsync(Ct);
        const int total = 12_000;
        var pipe = new Pipe();
        var content = new StreamContent(pipe.Reader.AsStream());
        content.Headers.ContentType = new("application/x-ndjson");
        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < 6000; i++)
            {
                await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(Line(i)), Ct);
            }

            // Once two batches are committed, every connection of the gateway's database is cut.
            while (await gateway.ScalarAsync<long>("SELECT count(*) FROM endpoints WHERE application_id = @a", Ct, ("a", appId)) < 4000)
            {
                await Task.Delay(50, Ct);
            }

            await gateway.ScalarAsync<long>(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", Ct);
            for (var i = 6000; i < total; i++)
            {
                if ((await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(Line(i)), Ct)).IsCompleted)
                {
                    break;
                }
            }

            await pipe.Writer.CompleteAsync();
        }, Ct);

        var response = await project.Client.PostAsync($"v1/applications/{appId}/endpoints/import", content, Ct);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!.AsObject();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, body.ToJsonString());
        await pipe.Reader.CompleteAsync();
        await sending.WaitAsync(TimeSpan.FromSeconds(30), Ct).ContinueWith(_ => { }, TaskScheduler.Default);
        var committed = body["committedLines"]!.GetValue<long>();
        var stored = await gateway.ScalarAsync<long>("SELECT count(*) FROM endpoints WHERE application_id = @a", Ct, ("a", appId));
        // Batches are whole and committed from the start: exactly the lines up to committedLines are stored, with their topics.
        Assert.InRange(committed, 4000, total - 1);
        Assert.Equal(committed, stored);
        Assert.Equal(committed, body["created"]!.GetValue<long>());
        Assert.Equal(stored, await gateway.ScalarAsync<long>(
            "SELECT count(*) FROM topic_subscriptions s JOIN endpoints e ON e.id = s.endpoint_id WHERE e.application_id = @a", Ct, ("a", appId)));

        // Sending the rest of the file, from committedLines + 1, completes it.
        var rest = string.Concat(Enumerable.Range((int)committed, total - (int)committed).Select(Line));
        JsonObject? resumed = null;
        for (var attempt = 0; attempt < 5 && resumed is null; attempt++)
        {
            var again = await project.Client.PostAsync($"v1/applications/{appId}/endpoints/import",
                new StringContent(rest, Encoding.UTF8, "application/x-ndjson"), Ct);
            if (again.StatusCode == HttpStatusCode.OK)
            {
                resumed = JsonNode.Parse(await again.Content.ReadAsStringAsync(Ct))!.AsObject();
            }
        }

        Assert.NotNull(resumed);
        Assert.Equal(total - committed, resumed["created"]!.GetValue<long>());
        Assert.Equal(total, await gateway.ScalarAsync<long>("SELECT count(*) FROM endpoints WHERE application_id = @a", Ct, ("a", appId)));
    }
}
