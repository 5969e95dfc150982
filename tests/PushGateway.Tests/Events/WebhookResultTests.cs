using System.Net.Http.Headers;
using System.Security.Cryptography;
using PushGateway.Data;
using PushGateway.Events;
using PushGateway.Hosting;

namespace PushGateway.Tests.Events;

public sealed class WebhookResultTests
{
    private static readonly DateTimeOffset Created = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly EventsOptions Options = new();

    private static ClaimedEvent Event(int attempts) => new(
        1, Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), EventTypes.EndpointCreated, "{}"u8.ToArray(), Created, attempts,
        Created.AddMinutes(1), "http://127.0.0.1/hook", [1]);

    [Fact]
    public void ToResult_2xx_IsDelivered()
    {
        var now = Created.AddSeconds(3);
        var result = WebhookDispatcher.ToResult(Event(2), new WebhookAttempt.Delivered(204), now, Options, 0.5);
        Assert.Equal(EventStates.Delivered, result.State);
        Assert.Equal(now, result.CompletedAt);
        Assert.Equal(2, result.Attempts);
    }

    [Fact]
    public void ToResult_FailureInsideWindow_IsRetriedWithBackoff()
    {
        var now = Created.AddMinutes(5);
        var result = WebhookDispatcher.ToResult(Event(3), new WebhookAttempt.Failed("HTTP 500"), now, Options, 0);
        Assert.Equal(EventStates.Pending, result.State);
        Assert.Null(result.CompletedAt);
        Assert.Equal("HTTP 500", result.Error);
        // Third attempt: 4 s, jitter 0 keeps half.
        Assert.Equal(now.AddSeconds(2), result.NextAttemptAt);
    }

    [Fact]
    public void ToResult_BackoffBeyondWindow_LastAttemptAtWindowEnd()
    {
        var now = Created + Options.RetryWindow - TimeSpan.FromSeconds(10);
        var result = WebhookDispatcher.ToResult(Event(30), new WebhookAttempt.Failed("HTTP 503"), now, Options, 0.9);
        Assert.Equal(EventStates.Pending, result.State);
        Assert.Equal(Created + Options.RetryWindow, result.NextAttemptAt);
    }

    [Fact]
    public void ToResult_FailureAfterWindow_IsFailedWithError()
    {
        var now = Created + Options.RetryWindow;
        var result = WebhookDispatcher.ToResult(Event(150), new WebhookAttempt.Failed("timeout: no response within 10 s"), now, Options, 0.5);
        Assert.Equal(EventStates.Failed, result.State);
        Assert.Equal(now, result.CompletedAt);
        Assert.Equal("timeout: no response within 10 s", result.Error);
    }

    [Fact]
    public void RetryAfter_DeltaAndDate_AreRead_PastDateIgnored()
    {
        var now = Created;
        Assert.Equal(TimeSpan.FromSeconds(120), WebhookSender.RetryAfter(new RetryConditionHeaderValue(TimeSpan.FromSeconds(120)), now));
        Assert.Equal(TimeSpan.FromMinutes(3), WebhookSender.RetryAfter(new RetryConditionHeaderValue(now.AddMinutes(3)), now));
        Assert.Null(WebhookSender.RetryAfter(new RetryConditionHeaderValue(now.AddMinutes(-3)), now));
        Assert.Null(WebhookSender.RetryAfter(null, now));
    }

    [Fact]
    public void Options_Defaults_AreValid_AndShortLeaseIsRejected()
    {
        Assert.True(EventsOptions.IsValid(new EventsOptions()));
        Assert.False(EventsOptions.IsValid(new EventsOptions { RequestTimeout = TimeSpan.FromSeconds(40), LeaseDuration = TimeSpan.FromMinutes(1) }));
    }
}

public sealed class WebhookSecretsTests
{
    private readonly SecretBox _box = new(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void Get_DecryptsWithTheApplicationsContext_AndFollowsANewCiphertext()
    {
        var appId = Guid.NewGuid();
        var cache = new WebhookSecrets(_box);
        var first = _box.SealString("first-secret-0123456789", PushGateway.Applications.ApplicationsEndpoints.EventsSecretContext(appId));
        Assert.Equal("first-secret-0123456789"u8.ToArray(), cache.Get(appId, first));
        Assert.Same(cache.Get(appId, first), cache.Get(appId, first));

        var rotated = _box.SealString("second-secret-0123456789", PushGateway.Applications.ApplicationsEndpoints.EventsSecretContext(appId));
        Assert.Equal("second-secret-0123456789"u8.ToArray(), cache.Get(appId, rotated));
    }

    [Fact]
    public void Get_CiphertextOfAnotherApplication_Throws()
    {
        var cache = new WebhookSecrets(_box);
        var other = _box.SealString("secret-0123456789abc", PushGateway.Applications.ApplicationsEndpoints.EventsSecretContext(Guid.NewGuid()));
        Assert.ThrowsAny<CryptographicException>(() => cache.Get(Guid.NewGuid(), other));
    }
}
