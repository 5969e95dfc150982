using System.Globalization;

namespace PushGateway.WebConsole;

/// <summary>How the console writes times and ages: UTC, to the second, the same on every page.</summary>
internal static class Format
{
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset? time) => time is { } t ? Time(t) : "—";

    public static string Age(double seconds) => seconds switch
    {
        <= 0 => "—",
        < 120 => $"{seconds:0} s",
        < 7200 => $"{seconds / 60:0} min",
        _ => $"{seconds / 3600:0.#} h",
    };
}
