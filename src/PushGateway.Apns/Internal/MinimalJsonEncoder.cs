using System.Text;
using System.Text.Encodings.Web;

namespace PushGateway.Apns.Internal;

/// <summary>
/// Escapes only what JSON requires (quote, backslash, control characters). The built-in encoders, even
/// <see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/>, write every character outside the BMP (emoji) as two
/// <c>\uXXXX</c> escapes: 12 bytes instead of 4, against a 4096-byte payload limit.
/// </summary>
internal sealed class MinimalJsonEncoder : JavaScriptEncoder
{
    public static MinimalJsonEncoder Instance { get; } = new();

    public override int MaxOutputCharactersPerInputCharacter => 6; // \uXXXX

    public override bool WillEncode(int unicodeScalar) => unicodeScalar < 0x20 || unicodeScalar is '"' or '\\';

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        var span = new ReadOnlySpan<char>(text, textLength);
        for (var i = 0; i < span.Length; i++)
        {
            if (WillEncode(span[i]))
            {
                return i;
            }
        }

        return -1;
    }

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        var output = new Span<char>(buffer, bufferLength);
        char? shortForm = unicodeScalar switch
        {
            '"' => '"',
            '\\' => '\\',
            '\n' => 'n',
            '\r' => 'r',
            '\t' => 't',
            '\b' => 'b',
            '\f' => 'f',
            _ => null,
        };

        if (shortForm is { } letter)
        {
            if (output.Length < 2)
            {
                numberOfCharactersWritten = 0;
                return false;
            }

            output[0] = '\\';
            output[1] = letter;
            numberOfCharactersWritten = 2;
            return true;
        }

        if (!WillEncode(unicodeScalar))
        {
            // Asked to write a character we do not escape: write it as is (a BMP scalar is one char).
            if (unicodeScalar > 0xFFFF || output.Length < 1)
            {
                numberOfCharactersWritten = 0;
                return unicodeScalar > 0xFFFF && TryWriteSurrogates(unicodeScalar, output, out numberOfCharactersWritten);
            }

            output[0] = (char)unicodeScalar;
            numberOfCharactersWritten = 1;
            return true;
        }

        if (output.Length < 6)
        {
            numberOfCharactersWritten = 0;
            return false;
        }

        output[0] = '\\';
        output[1] = 'u';
        ((ushort)unicodeScalar).TryFormat(output[2..], out _, "X4");
        numberOfCharactersWritten = 6;
        return true;
    }

    private static bool TryWriteSurrogates(int unicodeScalar, Span<char> output, out int written)
    {
        written = 0;
        if (output.Length < 2)
        {
            return false;
        }

        written = new Rune(unicodeScalar).EncodeToUtf16(output);
        return true;
    }
}
