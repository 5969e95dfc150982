using System.Collections.Concurrent;

namespace PushGateway.Delivery;

/// <summary>
/// Misconfiguration is not death. Some provider answers that say "this token is dead" are also exactly what a
/// configuration mistake produces: sandbox tokens sent to production (APNs BadDeviceToken), a wrong bundle id
/// (DeviceTokenNotForTopic), a service account of another Firebase project (SENDER_ID_MISMATCH, invalid-token
/// INVALID_ARGUMENT). One device answering so is one dead device; most of an application's devices answering so,
/// with few successes, is a wrong application. The guard counts, per application and credentials version, those
/// answers against all others within a window; once at least <see cref="DeliveryOptions.MisconfigurationMinAnswers"/>
/// of them make up <see cref="DeliveryOptions.MisconfigurationShare"/> of the answers, it trips: from then on such
/// answers hold the delivery and disable the application (as a credential failure does), and the endpoints they
/// disabled before the trip are restored. New credentials or a new environment (a new credentials version) start a
/// fresh count. Each process counts what its own workers see.
/// </summary>
internal sealed class MisconfigurationGuard(DeliveryOptions options)
{
    // Per application, each tally locked on its own: every answer passes here, so no lock shared by all applications.
    private readonly ConcurrentDictionary<Guid, Tally> _tallies = new();

    /// <summary>The endpoint disabled reasons of the answers the guard counts (restored when it trips).</summary>
    public static readonly string[] SuspectReasonPrefixes =
        ["apns:400:BadDeviceToken", "apns:400:DeviceTokenNotForTopic", "fcm:403:SENDER_ID_MISMATCH", "fcm:400:INVALID_ARGUMENT"];

    private sealed class Tally(int version, DateTimeOffset since)
    {
        public int Version { get; } = version;
        public DateTimeOffset Since { get; } = since;
        public int Suspect { get; set; }
        public int Other { get; set; }
        public bool Tripped { get; set; }
    }

    /// <summary>
    /// Counts one answer and returns what it means: the answer itself, or, once the guard has tripped for the
    /// application, <see cref="DeliveryOutcome.Misconfigured"/> instead of a token death.
    /// </summary>
    public DeliveryOutcome Review(Guid applicationId, int credentialsVersion, DeliveryOutcome outcome, DateTimeOffset now)
    {
        if (options.MisconfigurationMinAnswers == 0 || outcome is DeliveryOutcome.Retry or DeliveryOutcome.CredentialsFailed)
        {
            return outcome; // off, or an answer that says nothing about the tokens
        }

        var tally = _tallies.GetOrAdd(applicationId, _ => new Tally(credentialsVersion, now));
        if (tally.Version != credentialsVersion || (!tally.Tripped && now - tally.Since > options.MisconfigurationWindow))
        {
            // New credentials or environment, or a window over: a fresh count (a racing answer may land in either).
            var fresh = new Tally(credentialsVersion, now);
            tally = _tallies.TryUpdate(applicationId, fresh, tally) ? fresh : _tallies.GetOrAdd(applicationId, fresh);
        }

        lock (tally)
        {
            if (outcome is not DeliveryOutcome.TokenDead { Misconfiguration: { } cause } dead)
            {
                tally.Other++;
                return outcome;
            }

            tally.Suspect++;
            var total = tally.Suspect + tally.Other;
            var trips = false;
            if (!tally.Tripped && tally.Suspect >= options.MisconfigurationMinAnswers && tally.Suspect >= options.MisconfigurationShare * total)
            {
                tally.Tripped = trips = true;
            }

            if (!tally.Tripped)
            {
                return outcome;
            }

            var reason = $"misconfiguration: {cause} ({tally.Suspect} of {total} answers since {tally.Since:u} were {dead.Reason})";
            return new DeliveryOutcome.Misconfigured(dead.Status, dead.Reason, reason, tally.Since, IsTrip: trips);
        }
    }

    /// <summary>
    /// What one probe says about a BadDeviceToken trip: the same push to one affected token through the other APNs
    /// environment. Accepted: the tokens are of that environment, for certain (and that notification was delivered).
    /// </summary>
    public static DeliveryOutcome.Misconfigured AfterProbe(DeliveryOutcome.Misconfigured trip, DeliveryOutcome probe, string otherEnvironment) => probe switch
    {
        DeliveryOutcome.Delivered delivered => trip with
        {
            DisabledReason = trip.DisabledReason.Replace("misconfiguration: probably ", "misconfiguration: confirmed ", StringComparison.Ordinal)
                + $"; one affected token probed against the {otherEnvironment} environment was accepted",
            DeliveredByProbe = delivered,
        },
        DeliveryOutcome.TokenDead => trip with
        {
            DisabledReason = trip.DisabledReason + $"; a probe of one affected token against the {otherEnvironment} environment was refused too (tokens of another app?)",
        },
        _ => trip, // the probe itself failed (network…): nothing learnt
    };

    /// <summary>Forgets applications not heard from for a while (keeps the table as small as the active set).</summary>
    public void Forget(DateTimeOffset now)
    {
        foreach (var (id, tally) in _tallies.Where(t => now - t.Value.Since > 2 * options.MisconfigurationWindow))
        {
            _tallies.TryRemove(new KeyValuePair<Guid, Tally>(id, tally));
        }
    }
}
