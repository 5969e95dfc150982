using System.Text;
using System.Text.Encodings.Web;

namespace PushGateway.Providers;

/// <summary>
/// Escapes only what JSON requires (control characters, <c>"</c> and <c>\</c>). The built-in encoders, even
/// <see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/>, write every character outside the Basic Multilingual
/// Plane (emoji) as two <c>\uXXXX</c> escapes: 12 bytes instead of 4, against APNs' and FCM's 4096-byte limits. The
/// JSON goes to an HTTP API, never into HTML or a script, so HTML-sensitive characters need no escaping either.
/// Linked into the APNs and FCM clients and the gateway, so all three count payload bytes the same way.
/// </summary>
internal sealed class MinimalJsonEncoder : JavaScriptEncoder
{
    public static readonly MinimalJsonEncoder Instance = new();

    private MinimalJsonEncoder()
    {
    }

    public override int MaxOutputCharactersPerInputCharacter => 6;

    public override bool WillEncode(int unicodeScalar) => unicodeScalar < 0x20 || unicodeScalar == '"' || unicodeScalar == '\\';

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        var span = new ReadOnlySpan<char>(text, textLength);
        for (var i = 0; i < span.Length; i++)
        {
            var c = span[i];
            if (c < 0x20 || c == '"' || c == '\\')
            {
                return i;
            }

            // A lone surrogate is not valid text; let the writer deal with it through the escaping path.
            if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
                {
                    i++;
                    continue;
                }

                return i;
            }
        }

        return -1;
    }

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        var output = new Span<char>(buffer, bufferLength);
        if (!WillEncode(unicodeScalar))
        {
            if (Rune.TryCreate(unicodeScalar, out var rune) && rune.TryEncodeToUtf16(output, out numberOfCharactersWritten))
            {
                return true;
            }

            numberOfCharactersWritten = 0;
            return false;
        }

        var shortForm = unicodeScalar switch
        {
            '"' => '"',
            '\\' => '\\',
            '\n' => 'n',
            '\r' => 'r',
            '\t' => 't',
            '\b' => 'b',
            '\f' => 'f',
            _ => '\0',
        };
        if (shortForm != '\0' && output.Length >= 2)
        {
            output[0] = '\\';
            output[1] = shortForm;
            numberOfCharactersWritten = 2;
            return true;
        }

        if (output.Length < 6)
        {
            numberOfCharactersWritten = 0;
            return false;
        }

        "\\u".CopyTo(output);
        ((ushort)unicodeScalar).TryFormat(output[2..], out _, "X4", System.Globalization.CultureInfo.InvariantCulture);
        numberOfCharactersWritten = 6;
        return true;
    }
}
