using System.Net;
using System.Net.Http.Json;
using System.Xml.Linq;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.IntegrationTests.Sns;
using PushGateway.Sns;

namespace PushGateway.IntegrationTests.Quota;

/// <summary>Sends to an empty topic: accepted with no deliveries, so nothing is ever sent anywhere.</summary>
internal static class QuotaSends
{
    public static async Task<HttpResponseMessage> SendAsync(HttpClient client, string topic, CancellationToken cancellationToken) =>
        await client.PostAsJsonAsync("v1/messages", new { target = new { topic }, notification = new { title = "quota" } }, cancellationToken);

    public static async Task<HttpResponseMessage> BatchAsync(HttpClient client, string topic, int count, CancellationToken cancellationToken) =>
        await client.PostAsJsonAsync("v1/messages/batch", new
        {
            messages = Enumerable.Range(0, count).Select(_ => new { target = new { topic }, notification = new { title = "quota" } }).ToArray(),
        }, cancellationToken);

    public static async Task<ProjectContext> ProjectWithTopicAsync(TestGateway gateway, string topic, CancellationToken cancellationToken)
    {
        var project = await gateway.NewProjectAsync(cancellationToken);
        Assert.Equal(HttpStatusCode.Created, (await project.Client.PutAsync($"v1/topics/{topic}", null, cancellationToken)).StatusCode);
        return project;
    }

    /// <summary>A 429 <c>rate-limited</c> problem with a whole-seconds Retry-After of at least 1.</summary>
    public static async Task AssertThrottledAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var retryAfter = response.Headers.TryGetValues("Retry-After", out var values) ? values.Single() : null;
        var problem = await response.AssertProblemAsync(HttpStatusCode.TooManyRequests, "rate-limited", cancellationToken);
        Assert.True(int.TryParse(retryAfter, out var seconds) && seconds >= 1, $"Retry-After: '{retryAfter}'");
        Assert.Equal(seconds, problem["retryAfter"]!.GetValue<int>());
    }
}

public sealed class SendQuotaOffTests(TestGateway gateway) : IClassFixture<TestGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task NoQuotaByDefault_ABurstIsAccepted()
    {
        var project = await QuotaSends.ProjectWithTopicAsync(gateway, "burst", Ct);
        var sends = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => QuotaSends.SendAsync(project.Client, "burst", Ct)));
        Assert.All(sends, s => Assert.Equal(HttpStatusCode.Accepted, s.StatusCode));
        Assert.Equal(HttpStatusCode.Accepted, (await QuotaSends.BatchAsync(project.Client, "burst", 500, Ct)).StatusCode);
    }
}

public sealed class RateQuotaGateway : TestGateway
{
    public const int PerSecond = 3;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Quota:MessagesPerSecond"] = PerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Delivery:Enabled"] = "false",
    };
}

public sealed class SendRateQuotaTests(RateQuotaGateway gateway) : IClassFixture<RateQuotaGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OverTheRate_429WithRetryAfter_AndAnotherProjectIsUnaffected()
    {
        var a = await QuotaSends.ProjectWithTopicAsync(gateway, "news", Ct);
        var b = await QuotaSends.ProjectWithTopicAsync(gateway, "news", Ct);
        var sends = new List<HttpResponseMessage>();
        for (var i = 0; i < 10; i++)
        {
            sends.Add(await QuotaSends.SendAsync(a.Client, "news", Ct));
        }

        var accepted = sends.Count(s => s.StatusCode == HttpStatusCode.Accepted);
        // One second's worth, plus at most one refill if the second turned during the burst.
        Assert.InRange(accepted, RateQuotaGateway.PerSecond, 2 * RateQuotaGateway.PerSecond);
        var refused = sends.Where(s => s.StatusCode != HttpStatusCode.Accepted).ToList();
        Assert.NotEmpty(refused);
        foreach (var response in refused)
        {
            await QuotaSends.AssertThrottledAsync(response, Ct);
        }

        // The refused sends queued nothing: one message row per accepted send.
        Assert.Equal(accepted, await gateway.ScalarAsync<long>("SELECT count(*) FROM messages WHERE project_id = @p", Ct, ("p", a.ProjectId)));

        // Project b has its own bucket, full although a's is empty.
        for (var i = 0; i < RateQuotaGateway.PerSecond; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await QuotaSends.SendAsync(b.Client, "news", Ct)).StatusCode);
        }

        // After a second a may send again.
        await Task.Delay(TimeSpan.FromSeconds(1.2), Ct);
        Assert.Equal(HttpStatusCode.Accepted, (await QuotaSends.SendAsync(a.Client, "news", Ct)).StatusCode);
    }

    [Fact]
    public async Task Batch_CountsEachMessage()
    {
        var project = await QuotaSends.ProjectWithTopicAsync(gateway, "batch", Ct);
        await Task.Delay(TimeSpan.FromSeconds(1.1), Ct);
        Assert.Equal(HttpStatusCode.Accepted, (await QuotaSends.BatchAsync(project.Client, "batch", 2, Ct)).StatusCode);
        // One message is left in this second's bucket: a batch of two is refused whole, with nothing queued.
        var second = await QuotaSends.BatchAsync(project.Client, "batch", 2, Ct);
        if (second.StatusCode == HttpStatusCode.Accepted)
        {
            // The second turned between the two calls (refilled): the next batch of two meets an empty bucket.
            second = await QuotaSends.BatchAsync(project.Client, "batch", 2, Ct);
        }

        await QuotaSends.AssertThrottledAsync(second, Ct);
        // A batch larger than a second's worth can never pass: refused, and it says why.
        var tooBig = await QuotaSends.BatchAsync(project.Client, "batch", RateQuotaGateway.PerSecond + 1, Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, tooBig.StatusCode);
        Assert.Contains("smaller batches", (await tooBig.ReadObjectAsync(Ct))["detail"].Str(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SnsPublish_OverTheRate_AnswersThrottled()
    {
        var project = await QuotaSends.ProjectWithTopicAsync(gateway, "sns-news", Ct);
        var keys = await SnsTools.CreateKeysAsync(project.Client, project.ProjectId, Ct);
        using var client = gateway.Client();
        var topicArn = $"arn:aws:sns:ap-south-1:{keys.AccountId}:sns-news";
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? throttled = null;
        for (var i = 0; i < 10; i++)
        {
            var body = $"Action=Publish&Version=2010-03-31&TopicArn={Uri.EscapeDataString(topicArn)}&Message=hi";
            var response = await client.SendAsync(SnsProtocolTests.Signed(HttpMethod.Post, new Uri(gateway.BaseAddress, "sns"), body, keys), Ct);
            statuses.Add(response.StatusCode);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throttled ??= response;
            }
        }

        Assert.True(throttled is not null, string.Join(", ", statuses));
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.True(int.Parse(throttled.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        XNamespace ns = SnsXml.Namespace;
        var error = XDocument.Parse(await throttled.Content.ReadAsStringAsync(Ct)).Root!.Element(ns + "Error")!;
        Assert.Equal("Throttled", error.Element(ns + "Code")!.Value);
        Assert.Equal("Sender", error.Element(ns + "Type")!.Value);
    }
}

public sealed class QueueCapGateway : TestGateway
{
    public const int Cap = 3;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Quota:MaxQueuedDeliveries"] = Cap.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Quota:RefreshInterval"] = "00:00:00.100",
        // No workers: what is queued stays queued.
        ["Delivery:Enabled"] = "false",
    };
}

public sealed class QueuedDeliveriesCapTests(QueueCapGateway gateway) : IClassFixture<QueueCapGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AtTheCap_429UntilTheQueueDrains_AndAnotherProjectIsUnaffected()
    {
        var full = await QuotaSends.ProjectWithTopicAsync(gateway, "t", Ct);
        var other = await QuotaSends.ProjectWithTopicAsync(gateway, "t", Ct);
        var app = await full.Client.CreateFcmAppAsync(Ct);
        var ids = new List<Guid>();
        for (var i = 0; i < QueueCapGateway.Cap; i++)
        {
            ids.Add((await full.Client.CreateEndpointAsync(app, TestCredentials.FcmToken(), Ct)).Id());
        }

        var queued = await full.Client.PostAsJsonAsync("v1/messages", new { target = new { endpointIds = ids }, notification = new { title = "fill" } }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);

        // Within a few refreshes the count reaches the cap and sends are refused.
        var refused = await WaitForStatusAsync(full.Client, HttpStatusCode.TooManyRequests);
        await QuotaSends.AssertThrottledAsync(refused, Ct);
        Assert.Equal(HttpStatusCode.Accepted, (await QuotaSends.SendAsync(other.Client, "t", Ct)).StatusCode);

        // The queue drains (as if delivered): sends are accepted again.
        Assert.Equal(QueueCapGateway.Cap, await gateway.ScalarAsync<long>("""
            WITH done AS (UPDATE deliveries d SET state = 'delivered', completed_at = now() FROM applications a
                          WHERE a.id = d.application_id AND a.project_id = @p AND d.state = 'pending' RETURNING 1)
            SELECT count(*) FROM done
            """, Ct, ("p", full.ProjectId)));
        await WaitForStatusAsync(full.Client, HttpStatusCode.Accepted);
    }

    private static async Task<HttpResponseMessage> WaitForStatusAsync(HttpClient client, HttpStatusCode wanted)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var response = await QuotaSends.SendAsync(client, "t", Ct);
            if (response.StatusCode == wanted || DateTime.UtcNow > deadline)
            {
                Assert.Equal(wanted, response.StatusCode);
                return response;
            }

            await Task.Delay(50, Ct);
        }
    }
}
