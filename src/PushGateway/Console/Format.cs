using System.Globalization;

namespace PushGateway.WebConsole;

/// <summary>How the console writes times and ages: UTC, to the second, the same on every page.</summary>
internal static class Format
{
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset? time) => time is { } t ? Time(t) : "—";

    /// <summary>A count that stopped at <paramref name="cap"/>: "10,000+".</summary>
    public static string Count(long count, int cap) =>
        count >= cap ? cap.ToString("N0", CultureInfo.InvariantCulture) + "+" : count.ToString("N0", CultureInfo.InvariantCulture);

    public static string Age(double seconds) => seconds switch
    {
        <= 0 => "—",
        < 120 => $"{seconds:0} s",
        < 7200 => $"{seconds / 60:0} min",
        _ => $"{seconds / 3600:0.#} h",
    };
}
