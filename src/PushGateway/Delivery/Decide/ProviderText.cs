using System.Text;

namespace PushGateway.Delivery;

/// <summary>
/// Cleans text that came from a provider (or from an exception) before it is stored in a receipt, a disabled reason
/// or an event: whole characters only (a cut never splits a surrogate pair, and lone surrogates are dropped, since
/// PostgreSQL refuses text that is not valid UTF-8), no control characters (NUL, CR, LF… become nothing or a space),
/// and a bounded length. One provider answer with odd text must never make a result unwritable.
/// </summary>
internal static class ProviderText
{
    /// <summary>Longest reason stored (receipts, disabled reasons).</summary>
    public const int MaxReason = 500;

    /// <summary>Longest provider id stored (apns-id, FCM message name, apns-unique-id).</summary>
    public const int MaxId = 255;

    public static string? Clean(string? value, int maxLength)
    {
        if (value is null)
        {
            return null;
        }

        if (IsClean(value, maxLength))
        {
            return value; // the common case: short printable ASCII, no copy
        }

        var builder = new StringBuilder(Math.Min(value.Length, maxLength));
        foreach (var rune in EnumerateValid(value))
        {
            var r = rune;
            if (Rune.IsControl(r))
            {
                if (r.Value is '\r' or '\n' or '\t')
                {
                    r = new Rune(' ');
                }
                else
                {
                    continue;
                }
            }

            if (builder.Length + r.Utf16SequenceLength > maxLength)
            {
                break;
            }

            builder.Append(r.ToString());
        }

        return builder.ToString();
    }

    private static bool IsClean(string value, int maxLength)
    {
        if (value.Length > maxLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is < ' ' or > '~')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The string's runes, leaving out lone surrogates (which Rune enumeration turns into U+FFFD).</summary>
    private static IEnumerable<Rune> EnumerateValid(string value)
    {
        var index = 0;
        while (index < value.Length)
        {
            var status = Rune.DecodeFromUtf16(value.AsSpan(index), out var rune, out var consumed);
            if (status == System.Buffers.OperationStatus.Done)
            {
                yield return rune;
            }

            index += Math.Max(1, consumed);
        }
    }
}
