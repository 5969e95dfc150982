using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using PushGateway.Hosting;

namespace PushGateway.Quota;

/// <summary>
/// The per-project send quota, checked by the send routes (REST single and batch, SNS Publish) before a message is
/// accepted. Off unless configured; when off the check is two comparisons.
/// </summary>
internal sealed class SendQuota : IDisposable
{
    private readonly QuotaOptions _options;
    private readonly QueuedDeliveries _queued;
    private readonly PartitionedRateLimiter<Guid>? _rate;

    public SendQuota(IOptions<QuotaOptions> options, QueuedDeliveries queued)
    {
        _options = options.Value;
        _queued = queued;
        var perSecond = _options.MessagesPerSecond;
        if (perSecond > 0)
        {
            _rate = PartitionedRateLimiter.Create<Guid, Guid>(projectId => RateLimitPartition.GetTokenBucketLimiter(projectId, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = perSecond,
                TokensPerPeriod = perSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
        }
    }

    /// <summary>Takes <paramref name="messages"/> from the project's quota; null when they may be sent.</summary>
    public QuotaRefusal? TryAcquire(Guid projectId, int messages)
    {
        if (messages <= 0)
        {
            return null;
        }

        if (_options.MaxQueuedDeliveries > 0 && _queued.Of(projectId) >= _options.MaxQueuedDeliveries)
        {
            return new QuotaRefusal(_options.RefreshInterval,
                $"The project has {_options.MaxQueuedDeliveries} or more deliveries queued (Quota:MaxQueuedDeliveries); wait for them to drain.");
        }

        if (_rate is null)
        {
            return null;
        }

        if (messages > _options.MessagesPerSecond)
        {
            return new QuotaRefusal(TimeSpan.FromSeconds(1),
                $"{messages} messages are more than the project may send in one second ({_options.MessagesPerSecond}, Quota:MessagesPerSecond); send them in smaller batches.");
        }

        using var lease = _rate.AttemptAcquire(projectId, messages);
        if (lease.IsAcquired)
        {
            return null;
        }

        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
        return new QuotaRefusal(retryAfter,
            $"The project may send {_options.MessagesPerSecond} messages a second (Quota:MessagesPerSecond).");
    }

    /// <summary>
    /// The REST routes' one call: null when the messages may be sent, else a 429 <c>rate-limited</c> problem with
    /// <c>Retry-After</c> set on <paramref name="response"/>.
    /// </summary>
    public IResult? Refuse(HttpResponse response, Guid projectId, int messages)
    {
        if (TryAcquire(projectId, messages) is not { } refusal)
        {
            return null;
        }

        response.Headers.RetryAfter = refusal.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Problems.TooManyRequests(refusal.Detail, refusal.RetryAfterSeconds);
    }

    public void Dispose() => _rate?.Dispose();
}
