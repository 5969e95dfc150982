using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.WebConsole;

/// <summary>The delivering gateway with the simulator, and webhook retries short enough that an event fails for good in seconds.</summary>
public sealed class ConsoleGateway : DeliveryGateway
{
    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = base.Settings;
            settings["Events:PollInterval"] = "00:00:00.050";
            settings["Events:RetryWindow"] = "00:00:01";
            settings["Events:RetryBaseDelay"] = "00:00:00.200";
            settings["Events:RetryMaxDelay"] = "00:00:00.300";
            settings["Events:RequestTimeout"] = "00:00:01";
            return settings;
        }
    }
}
