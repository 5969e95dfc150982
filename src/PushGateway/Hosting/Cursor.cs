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

    /// <summary>Validates <c>limit</c> (1..<paramref name="max"/>, default <paramref name="fallback"/>) and <c>cursor</c>.</summary>
    public static bool TryReadPage(string? limitText, string? cursor, int fallback, int max, Validation validation, out int limit, out Guid? after)
    {
        limit = fallback;
        if (limitText is not null && (!int.TryParse(limitText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > max))
        {
            validation.Add("limit", $"Must be an integer from 1 to {max}.");
        }

        if (!TryDecode(cursor, out after))
        {
            validation.Add("cursor", "Not a cursor this API returned.");
        }

        return validation.IsValid;
    }
}
