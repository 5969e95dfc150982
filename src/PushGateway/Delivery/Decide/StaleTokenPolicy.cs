using PushGateway.Data;

namespace PushGateway.Delivery;

/// <summary>
/// Stale tokens age out (<c>StaleTokens</c> section). Firebase treats a token the app has not confirmed for two months
/// as likely stale and expires tokens inactive for 270 days; Apple says nothing of the kind. A token is stale when the
/// app has not confirmed it (<c>tokenUpdatedAt</c>: creation, a registration, a token change) for longer than its
/// platform's limit.
/// </summary>
internal sealed class StaleTokenOptions
{
    public const string SectionName = "StaleTokens";

    /// <summary>FCM tokens unconfirmed for longer than this are stale; empty turns the policy off for FCM.</summary>
    public TimeSpan? Fcm { get; set; } = TimeSpan.FromDays(270);

    /// <summary>APNs tokens unconfirmed for longer than this are stale; off unless set.</summary>
    public TimeSpan? Apns { get; set; }

    /// <summary>Endpoints disabled per transaction by the background job.</summary>
    public int BatchSize { get; set; } = 1000;

    /// <summary>How often the job looks (it also runs once soon after start).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>The staleness rule, pure.</summary>
internal static class StaleTokenPolicy
{
    public const string DisabledReason = "stale";

    /// <summary>The limit for <paramref name="platform"/>, or null when its tokens never go stale.</summary>
    public static TimeSpan? Limit(string platform, StaleTokenOptions options) => platform switch
    {
        Platforms.Fcm => options.Fcm is { } fcm && fcm > TimeSpan.Zero ? fcm : null,
        Platforms.Apns => options.Apns is { } apns && apns > TimeSpan.Zero ? apns : null,
        _ => null,
    };

    /// <summary>Tokens confirmed before this are stale; null when the platform has no limit.</summary>
    public static DateTimeOffset? Cutoff(string platform, StaleTokenOptions options, DateTimeOffset now) =>
        Limit(platform, options) is { } limit ? now - limit : null;

    public static bool IsStale(string platform, DateTimeOffset tokenUpdatedAt, StaleTokenOptions options, DateTimeOffset now) =>
        Cutoff(platform, options, now) is { } cutoff && tokenUpdatedAt < cutoff;
}
