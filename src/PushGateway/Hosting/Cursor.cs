using System.Buffers.Text;

namespace PushGateway.Hosting;

/// <summary>Opaque keyset cursors: the base64url of the last id of a page.</summary>
internal static class Cursor
{
    public static string Encode(Guid lastId) => Base64Url.EncodeToString(lastId.ToByteArray(bigEndian: true));

    public static bool TryDecode(string? cursor, out Guid? after)
    {
        after = null;
        if (string.IsNullOrEmpty(cursor))
        {
            return true;
        }

        if (cursor.Length > 64)
        {
            return false;
        }

        try
        {
            var bytes = Base64Url.DecodeFromChars(cursor);
            if (bytes.Length != 16)
            {
                return false;
            }

            after = new Guid(bytes, bigEndian: true);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public static string Encode(long lastId) => Base64Url.EncodeToString(BitConverter.GetBytes(lastId));

    public static bool TryDecode(string? cursor, out long after)
    {
        after = 0;
        if (string.IsNullOrEmpty(cursor) || cursor.Length > 32)
        {
            return false;
        }

        try
        {
            var bytes = Base64Url.DecodeFromChars(cursor);
            if (bytes.Length != 8)
            {
                return false;
            }

            after = BitConverter.ToInt64(bytes);
            return after >= 0;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>A cursor for lists ordered by a text key (topic names): the base64url of its UTF-8.</summary>
    public static string EncodeText(string lastKey) => Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(lastKey));

    public static bool TryDecodeText(string? cursor, int maxKeyLength, out string? after)
    {
        after = null;
        if (string.IsNullOrEmpty(cursor))
        {
            return true;
        }

        if (cursor.Length > (maxKeyLength * 4 / 3) + 4)
        {
            return false;
        }

        try
        {
            var text = System.Text.Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            if (text.Length is 0 || text.Length > maxKeyLength || !Validation.IsStorable(text))
            {
                return false;
            }

            after = text;
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>The default page size of every list route, and the most one page may hold.</summary>
    public const int DefaultLimit = 100;

    public const int MaxLimit = 1000;

    /// <summary>Validates <c>limit</c> (1..<paramref name="max"/>, default <paramref name="fallback"/>) and <c>cursor</c>.</summary>
    public static bool TryReadPage(string? limitText, string? cursor, int fallback, int max, Validation validation, out int limit, out Guid? after)
    {
        limit = ReadLimit(limitText, fallback, max, validation);
        if (!TryDecode(cursor, out after))
        {
            validation.Add("cursor", "Not a cursor this API returned.");
        }

        return validation.IsValid;
    }

    /// <summary><see cref="TryReadPage(string?, string?, int, int, Validation, out int, out Guid?)"/> with the default sizes.</summary>
    public static bool TryReadPage(string? limitText, string? cursor, Validation validation, out int limit, out Guid? after) =>
        TryReadPage(limitText, cursor, DefaultLimit, MaxLimit, validation, out limit, out after);

    /// <summary>The same for a list keyed by text of at most <paramref name="maxKeyLength"/> characters.</summary>
    public static bool TryReadTextPage(string? limitText, string? cursor, int maxKeyLength, Validation validation, out int limit, out string? after)
    {
        limit = ReadLimit(limitText, DefaultLimit, MaxLimit, validation);
        if (!TryDecodeText(cursor, maxKeyLength, out after))
        {
            validation.Add("cursor", "Not a cursor this API returned.");
        }

        return validation.IsValid;
    }

    /// <summary>The first <paramref name="limit"/> rows of a page read with one extra row, and the cursor after them (null on the last page).</summary>
    public static (List<T> Items, string? Next) Split<T>(List<T> rows, int limit, Func<T, string> cursorOf)
    {
        if (rows.Count <= limit)
        {
            return (rows, null);
        }

        rows.RemoveRange(limit, rows.Count - limit);
        return (rows, cursorOf(rows[^1]));
    }

    private static int ReadLimit(string? limitText, int fallback, int max, Validation validation)
    {
        var limit = fallback;
        if (limitText is not null && (!int.TryParse(limitText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > max))
        {
            validation.Add("limit", $"Must be an integer from 1 to {max}.");
        }

        return limit;
    }
}
