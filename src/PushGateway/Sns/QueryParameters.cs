using System.Globalization;

namespace PushGateway.Sns;

/// <summary>One SNS message attribute as the Query protocol flattens it (<c>MessageAttributes.entry.N.Value.*</c>).</summary>
internal sealed record MessageAttribute(string Name, string? DataType, string? StringValue, string? BinaryValue);

/// <summary>
/// The parameters of one Query protocol request, with the flattening rules of the AWS SDKs: maps as
/// <c>Name.entry.N.key/value</c>, message attributes as <c>Name.entry.N.Name/Value.*</c>, indices grouped and ordered
/// by N (not assumed contiguous).
/// </summary>
internal sealed class QueryParameters(IReadOnlyDictionary<string, string> values)
{
    public string? Get(string name) => values.TryGetValue(name, out var value) ? value : null;

    /// <summary>The value, or the ValidationError real SNS gives for a missing member (<paramref name="path"/> is its lowerCamel name).</summary>
    public string Required(string name, string? path = null) =>
        Get(name) ?? throw SnsException.MissingMember(path ?? char.ToLowerInvariant(name[0]) + name[1..]);

    /// <summary>A map parameter; null when no entry was sent (an empty map and a missing one look the same on the wire).</summary>
    public IReadOnlyDictionary<string, string>? Map(string name)
    {
        var entries = Indexed(name + ".entry.");
        if (entries.Count == 0)
        {
            return null;
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (_, fields) in entries)
        {
            if (fields.TryGetValue("key", out var key))
            {
                map[key] = fields.GetValueOrDefault("value") ?? "";
            }
        }

        return map;
    }

    public IReadOnlyList<MessageAttribute> MessageAttributes(string name) =>
        Indexed(name + ".entry.")
            .Where(e => e.Value.ContainsKey("Name"))
            .Select(e => new MessageAttribute(e.Value["Name"], e.Value.GetValueOrDefault("Value.DataType"),
                e.Value.GetValueOrDefault("Value.StringValue"), e.Value.GetValueOrDefault("Value.BinaryValue")))
            .ToList();

    /// <summary>True when any parameter starts with <paramref name="prefix"/> (a list or map was sent, possibly empty).</summary>
    public bool Has(string prefix) => values.Keys.Any(k => k == prefix || k.StartsWith(prefix + ".", StringComparison.Ordinal));

    private SortedDictionary<int, Dictionary<string, string>> Indexed(string prefix)
    {
        var result = new SortedDictionary<int, Dictionary<string, string>>();
        foreach (var (key, value) in values)
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var rest = key.AsSpan(prefix.Length);
            var dot = rest.IndexOf('.');
            if (dot <= 0 || !int.TryParse(rest[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                continue;
            }

            if (!result.TryGetValue(index, out var fields))
            {
                result[index] = fields = new Dictionary<string, string>(StringComparer.Ordinal);
            }

            fields[rest[(dot + 1)..].ToString()] = value;
        }

        return result;
    }
}
