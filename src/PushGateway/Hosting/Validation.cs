using System.Text;

namespace PushGateway.Hosting;

/// <summary>Collects field errors for one request; <see cref="ToProblem"/> turns them into the 400 validation problem.</summary>
internal sealed class Validation
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsValid => _errors.Count == 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }

        list.Add(message);
    }

    /// <summary>Required, trimmed-non-empty, at most <paramref name="maxLength"/> characters, clean text.</summary>
    public bool Text(string field, string? value, int maxLength, bool required = true)
    {
        if (value is null)
        {
            if (required)
            {
                Add(field, "Required.");
            }

            return !required;
        }

        if (required && value.Trim().Length == 0)
        {
            Add(field, "Must not be empty.");
            return false;
        }

        if (value.Length > maxLength)
        {
            Add(field, $"At most {maxLength} characters.");
            return false;
        }

        if (!IsStorable(value))
        {
            Add(field, "Contains characters that cannot be stored (NUL, control characters or broken Unicode).");
            return false;
        }

        return true;
    }

    /// <summary>
    /// PostgreSQL text cannot hold NUL, and JSON can smuggle lone surrogates that no UTF-8 encoder accepts;
    /// refuse both (and other C0 controls except tab/newline) up front instead of failing at write time.
    /// </summary>
    public static bool IsStorable(string value)
    {
        foreach (var c in value)
        {
            if (c < 0x20 && c is not ('\t' or '\n' or '\r'))
            {
                return false;
            }
        }

        // Lone surrogates: a strict UTF-8 encoder refuses them.
        try
        {
            _ = StrictUtf8.GetByteCount(value);
            return true;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public IResult ToProblem(string? detail = null) => TypedResults.Problem(ToDetails(detail));

    public Microsoft.AspNetCore.Http.HttpValidationProblemDetails ToDetails(string? detail = null) =>
        Problems.ValidationDetails(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal), detail);
}
