using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Retention;

/// <summary>The delivery gateway with history kept two seconds and the retention job running twice a second.</summary>
public sealed class RetentionGateway : DeliveryGateway
{
    public static readonly TimeSpan Kept = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);
    public const int BatchSize = 100;

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = base.Settings;
            settings["Retention:Messages"] = Kept.ToString();
            settings["Retention:IdempotencyKeys"] = Kept.ToString();
            settings["Retention:Interval"] = Interval.ToString();
            // Smaller than the test's fan-out, so that big messages go a batch of deliveries at a time.
            settings["Retention:BatchSize"] = BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return settings;
        }
    }
}
