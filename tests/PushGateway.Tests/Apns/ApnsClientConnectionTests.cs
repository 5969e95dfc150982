using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using PushGateway.Apns;

namespace PushGateway.Tests.Apns;

/// <summary>Connection behaviour: stream limits, GOAWAY, resets, timeouts, refused and untrusted connections.</summary>
/// <remarks>Each test starts its own simulator: they change connection-wide settings and read the counters.</remarks>
public sealed class ApnsClientConnectionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task SendAsync_ManyConcurrentRequests_RespectsServerStreamLimitAndMaxConnections(int maxConnections)
    {
        await using var simulator = await ApnsSimulator.StartAsync(maxConcurrentStreams: 4, cancellationToken: Ct);
        await simulator.PutSettingsAsync(new JsonObject { ["latencyMs"] = 20 }, Ct);
        var options = simulator.Options();
        options.MaxConnections = maxConnections;
        await using var client = new ApnsClient(options, await simulator.AddKeyAsync(cancellationToken: Ct));

        var responses = await Task.WhenAll(Enumerable.Range(0, 120).Select(_ => client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct)));

        Assert.All(responses, r => Assert.True(r.IsAccepted, r.ToString()));
        var counters = await simulator.GetApnsCountersAsync(Ct);
        Assert.InRange(counters["maxConcurrentStreamsObserved"]!.GetValue<int>(), 1, 4);
        // The pool grows only when every connection is at the server's limit, and never past MaxConnections.
        Assert.Equal(maxConnections, counters["connectionsOpened"]!.GetValue<int>());
        Assert.Equal(120, counters["accepted"]!.GetValue<int>());
    }

    [Fact]
    public async Task SendAsync_LightLoad_UsesOneConnection()
    {
        await using var simulator = await ApnsSimulator.StartAsync(cancellationToken: Ct);
        await using var client = new ApnsClient(simulator.Options(), await simulator.AddKeyAsync(cancellationToken: Ct));

        for (var i = 0; i < 5; i++)
        {
            await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct)));
        }

        Assert.Equal(1, (await simulator.GetApnsCountersAsync(Ct))["connectionsOpened"]!.GetValue<int>());
    }

    [Fact]
    public async Task SendAsync_ServerSendsGoAwayEveryFewStreams_EveryRequestGetsAnAnswerAndLaterOnesSucceed()
    {
        await using var simulator = await ApnsSimulator.StartAsync(cancellationToken: Ct);
        await simulator.PutSettingsAsync(new JsonObject { ["goAwayEveryStreams"] = 7 }, Ct);
        await using var client = new ApnsClient(simulator.Options(), await simulator.AddKeyAsync(cancellationToken: Ct));

        // Ten senders in parallel, so GOAWAYs arrive while other requests are in flight on the connection.
        var burst = (await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            var answers = new List<ApnsResponse>();
            for (var i = 0; i < 20; i++)
            {
                answers.Add(await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct));
            }

            return answers;
        }))).SelectMany(a => a).ToArray();
        var sequential = new List<ApnsResponse>();
        for (var i = 0; i < 30; i++)
        {
            sequential.Add(await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct));
        }

        Assert.All(burst, r => Assert.True(r.IsAccepted || r.IsTransportFailure, r.ToString()));
        Assert.True(burst.Count(r => r.IsAccepted) >= 190, $"{burst.Count(r => r.IsAccepted)} of 200 accepted");
        Assert.All(sequential, r => Assert.True(r.IsAccepted, r.ToString()));
        var counters = await simulator.GetApnsCountersAsync(Ct);
        var goAways = counters["goAwaysSent"]!.GetValue<int>();
        Assert.True(goAways >= 20, counters.ToJsonString());
        // Each GOAWAY cost one new connection (none yet after the last one if no request followed it): no storm of
        // reconnects.
        Assert.InRange(counters["connectionsOpened"]!.GetValue<int>(), goAways, goAways + 1);
    }

    [Fact]
    public async Task SendAsync_ShutdownPreset_ReturnsRetryableAndTheNextRequestSucceedsOnANewConnection()
    {
        await using var simulator = await ApnsSimulator.StartAsync(cancellationToken: Ct);
        await using var client = new ApnsClient(simulator.Options(), await simulator.AddKeyAsync(cancellationToken: Ct));
        var token = ApnsTestData.NewDeviceToken();
        await simulator.SetTokenAsync(token, new JsonObject { ["preset"] = "shutdown", ["times"] = 1 }, Ct);

        var shutdown = await client.SendAsync(ApnsTestData.Request(token), Ct);
        var next = await client.SendAsync(ApnsTestData.Request(token), Ct);

        Assert.Equal((503, ApnsReason.Shutdown, ApnsResponseClass.Retryable), (shutdown.StatusCode, shutdown.Reason, shutdown.Class));
        Assert.True(next.IsAccepted, next.ToString());
        Assert.Equal(2, (await simulator.GetApnsCountersAsync(Ct))["connectionsOpened"]!.GetValue<int>());
    }

    [Fact]
    public async Task SendAsync_StreamReset_IsATransportFailureAndOtherRequestsOnTheConnectionSucceed()
    {
        await using var simulator = await ApnsSimulator.StartAsync(cancellationToken: Ct);
        await using var client = new ApnsClient(simulator.Options(), await simulator.AddKeyAsync(cancellationToken: Ct));
        var resetToken = ApnsTestData.NewDeviceToken();
        await simulator.SetTokenAsync(resetToken, new JsonObject { ["preset"] = "reset", ["times"] = 3 }, Ct);

        var reset = client.SendAsync(ApnsTestData.Request(resetToken), Ct);
        var others = Enumerable.Range(0, 20).Select(_ => client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct)).ToArray();
        var resetAgain = await client.SendAsync(ApnsTestData.Request(resetToken), Ct);

        var failure = await reset;
        Assert.Equal(0, failure.StatusCode);
        Assert.True(failure.IsTransportFailure);
        Assert.Equal(ApnsResponseClass.Retryable, failure.Class);
        Assert.DoesNotContain(resetToken, failure.TransportError, StringComparison.Ordinal);
        Assert.True(resetAgain.IsTransportFailure);
        Assert.All(await Task.WhenAll(others), r => Assert.True(r.IsAccepted, r.ToString()));
        var later = await client.SendAsync(ApnsTestData.Request(resetToken), Ct);
        var afterBehaviour = await client.SendAsync(ApnsTestData.Request(resetToken), Ct);
        Assert.True(later.IsTransportFailure);
        Assert.True(afterBehaviour.IsAccepted, afterBehaviour.ToString());
    }

    [Fact]
    public async Task SendAsync_ServerNeverAnswers_TimesOutAsATransportFailure()
    {
        await using var simulator = await ApnsSimulator.StartAsync(cancellationToken: Ct);
        var options = simulator.Options();
        options.RequestTimeout = TimeSpan.FromMilliseconds(500);
        await using var client = new ApnsClient(options, await simulator.AddKeyAsync(cancellationToken: Ct));
        var token = ApnsTestData.NewDeviceToken();
        await simulator.SetTokenAsync(token, new JsonObject { ["preset"] = "hang" }, Ct);

        var hung = await client.SendAsync(ApnsTestData.Request(token), Ct);
        var other = await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);

        Assert.True(hung.IsTransportFailure);
        Assert.Equal(0, hung.StatusCode);
        Assert.Equal(ApnsResponseClass.Retryable, hung.Class);
        Assert.StartsWith("Timeout", hung.TransportError, StringComparison.Ordinal);
        Assert.True(other.IsAccepted, other.ToString());
    }

    [Fact]
    public async Task SendAsync_TimeoutOnAFakeClock_FiresWhenTheClockPassesIt()
    {
        await using var simulator = await ApnsSimulator.StartAsync(cancellationToken: Ct);
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = simulator.Options(timeProvider: time);
        options.RequestTimeout = TimeSpan.FromSeconds(10);
        await using var client = new ApnsClient(options, await simulator.AddKeyAsync(cancellationToken: Ct));
        var token = ApnsTestData.NewDeviceToken();
        await simulator.SetTokenAsync(token, new JsonObject { ["preset"] = "hang" }, Ct);

        var hung = client.SendAsync(ApnsTestData.Request(token), Ct);
        await WaitUntilAsync(async () => (await simulator.GetApnsCountersAsync(Ct))["requests"]!.GetValue<int>() >= 1);
        Assert.False(hung.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(11));
        var response = await hung.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.True(response.IsTransportFailure);
        Assert.StartsWith("Timeout", response.TransportError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_CallerCancels_ThrowsOperationCanceled()
    {
        await using var simulator = await ApnsSimulator.StartAsync(cancellationToken: Ct);
        await using var client = new ApnsClient(simulator.Options(), await simulator.AddKeyAsync(cancellationToken: Ct));
        var token = ApnsTestData.NewDeviceToken();
        await simulator.SetTokenAsync(token, new JsonObject { ["preset"] = "hang" }, Ct);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cancellation.CancelAfter(TimeSpan.FromMilliseconds(300));

        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync(ApnsTestData.Request(token), cancellation.Token));

        Assert.Equal(cancellation.Token, e.CancellationToken);
    }

    [Fact]
    public async Task SendAsync_NothingListening_IsAConnectionTransportFailure()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await using var client = new ApnsClient(
            new ApnsClientOptions { BaseUrl = new Uri($"https://127.0.0.1:{port}/") }, ApnsProviderTokenCacheTests.NewCredentials());

        var response = await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);

        Assert.True(response.IsTransportFailure);
        Assert.Equal(ApnsResponseClass.Retryable, response.Class);
        Assert.StartsWith("ConnectionError", response.TransportError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_ServerCertificateNotTrusted_IsASecureConnectionTransportFailure()
    {
        await using var simulator = await ApnsSimulator.StartAsync(cancellationToken: Ct);
        var options = simulator.Options();
        options.TrustedCertificate = null;
        await using var client = new ApnsClient(options, await simulator.AddKeyAsync(cancellationToken: Ct));

        var response = await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);

        Assert.True(response.IsTransportFailure);
        Assert.StartsWith("SecureConnectionError", response.TransportError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_AfterDispose_ThrowsObjectDisposed()
    {
        await using var simulator = await ApnsSimulator.StartAsync(cancellationToken: Ct);
        var client = new ApnsClient(simulator.Options(), await simulator.AddKeyAsync(cancellationToken: Ct));
        var first = await client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct);

        await client.DisposeAsync();

        Assert.True(first.IsAccepted, first.ToString());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.SendAsync(ApnsTestData.Request(ApnsTestData.NewDeviceToken()), Ct));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        while (!await condition())
        {
            await Task.Delay(20, timeout.Token);
        }
    }
}
