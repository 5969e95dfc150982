using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PushGateway.Cli;

/// <summary>The human view: aligned <c>key: value</c> lines and small tables, plus the <c>--json</c> printer.</summary>
internal static class Render
{
    private static readonly JsonSerializerOptions JsonOutput = new()
    {
        WriteIndented = true,
        // The default encoder escapes '+' in timestamps and every non-ASCII letter; this is a terminal, not HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Json(TextWriter output, JsonNode? node) => output.WriteLine(node?.ToJsonString(JsonOutput) ?? "null");

    public static void KeyValues(TextWriter output, IEnumerable<(string Key, string? Value)> rows)
    {
        var list = rows.ToList();
        var width = list.Count == 0 ? 0 : list.Max(r => r.Key.Length) + 1;
        foreach (var (key, value) in list)
        {
            output.WriteLine($"{(key + ":").PadRight(width)}  {value ?? "-"}");
        }
    }

    public static void Table(TextWriter output, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string?>> rows)
    {
        var cells = rows.Select(r => r.Select(c => string.IsNullOrEmpty(c) ? "-" : c).ToArray()).ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(r => r[i].Length))).ToArray();
        output.WriteLine(Line(headers, widths));
        foreach (var row in cells)
        {
            output.WriteLine(Line(row, widths));
        }
    }

    private static string Line(IReadOnlyList<string> cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => i == cells.Count - 1 ? c : c.PadRight(widths[i]))).TrimEnd();

    /// <summary>A JSON scalar as text (strings unquoted); null for JSON null or a missing member.</summary>
    public static string? Text(JsonNode? node) => node switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.Null => null,
        JsonValue value => value.ToString(),
        _ => node.ToJsonString(),
    };

    /// <summary>API timestamps in UTC to the second: enough to read, short enough for a table.</summary>
    public static string? Time(JsonNode? node) =>
        Text(node) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var time)
            ? time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : Text(node);

    public static string YesNo(JsonNode? node) => Text(node) switch
    {
        "true" or "True" => "yes",
        "false" or "False" => "no",
        var other => other ?? "-",
    };

    /// <summary>
    /// Device tokens are shortened in the human view (the full token is in <c>--json</c>): enough to tell them apart,
    /// not enough to paste a working token from a screen share or a terminal log.
    /// </summary>
    public static string? Token(JsonNode? node)
    {
        var token = Text(node);
        if (token is null)
        {
            return null;
        }

        return token.Length <= 16
            ? token[..Math.Min(4, token.Length)] + "..."
            : $"{token[..8]}...{token[^4..]} ({token.Length} chars)";
    }
}
