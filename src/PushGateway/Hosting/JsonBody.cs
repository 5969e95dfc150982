using System.Text.Json;
using System.Text.Json.Serialization;

namespace PushGateway.Hosting;

/// <summary>
/// Reads a JSON request body strictly: unknown fields, wrong types, numbers in strings, duplicate properties,
/// trailing garbage and oversize bodies all become a 4xx problem before anything is written.
/// </summary>
internal static class JsonBody
{
    /// <summary>The largest request body the gateway accepts (the contract's 1 MiB).</summary>
    public const long MaxBytes = 1024 * 1024;

    public static readonly JsonSerializerOptions Strict = CreateStrict();

    private static JsonSerializerOptions CreateStrict()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            NumberHandling = JsonNumberHandling.Strict,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            AllowDuplicateProperties = false,
            MaxDepth = 32,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        // Our DTOs' own property names match case-insensitively (web defaults); free-form objects must not.
        options.Converters.Add(new FreeFormObjectConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    public static async Task<BodyResult<T>> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        var bytes = await ReadBytesAsync(request, cancellationToken);
        return bytes.Error is not null ? new(null, bytes.Error) : Deserialize<T>(bytes.Value!);
    }

    /// <summary>The raw body (at most <see cref="MaxBytes"/>), for routes that also hash it (idempotency keys).</summary>
    public static async Task<BodyResult<byte[]>> ReadBytesAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBytes)
        {
            return new(null, Problems.PayloadTooLarge($"Request bodies are limited to {MaxBytes} bytes."));
        }

        if (request.ContentType is { } contentType && !IsJson(contentType))
        {
            return new(null, Problems.Problem(StatusCodes.Status415UnsupportedMediaType, ProblemTypes.UnsupportedMediaType,
                "Unsupported media type.", $"Send the body as application/json, not {contentType}."));
        }

        try
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, cancellationToken);
            if (buffer.Length > MaxBytes)
            {
                return new(null, Problems.PayloadTooLarge($"Request bodies are limited to {MaxBytes} bytes."));
            }

            return new(buffer.ToArray(), null);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new(null, Problems.PayloadTooLarge($"Request bodies are limited to {MaxBytes} bytes."));
        }
        catch (BadHttpRequestException ex)
        {
            return new(null, Problems.Problem(ex.StatusCode, ProblemTypes.ForStatus(ex.StatusCode), "Bad request.", "The request body could not be read."));
        }
    }

    public static BodyResult<T> Deserialize<T>(ReadOnlySpan<byte> json, string fieldPrefix = "")
        where T : class
    {
        var error = TryDeserialize<T>(json, fieldPrefix, out var value);
        return error is null ? new(value, null) : new(null, TypedResults.Problem(error));
    }

    /// <summary>Null on success; otherwise the validation problem (field names prefixed with <paramref name="fieldPrefix"/>).</summary>
    public static HttpValidationProblemDetails? TryDeserialize<T>(ReadOnlySpan<byte> json, string fieldPrefix, out T? value)
        where T : class
    {
        value = null;
        try
        {
            value = JsonSerializer.Deserialize<T>(json, Strict);
            return value is null ? Problems.ValidationDetails(new Dictionary<string, string[]> { [fieldPrefix + "$"] = ["A JSON object is required."] }) : null;
        }
        catch (JsonException ex)
        {
            return Problems.ValidationDetails(new Dictionary<string, string[]> { [fieldPrefix + FieldName(ex.Path)] = [Describe(ex)] });
        }
    }

    private static bool IsJson(string contentType)
    {
        var mediaType = contentType.Split(';', 2)[0].Trim();
        return mediaType.Length == 0
            || mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals("text/json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>"$.credentials.teamId" → "credentials.teamId"; the root stays "$".</summary>
    private static string FieldName(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return "$";
        }

        var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        return field.Length == 0 ? "$" : field;
    }

    /// <summary>The key named in System.Text.Json's duplicate message ("Duplicate property 'a' encountered…"), shortened.</summary>
    private static string? DuplicateName(string message)
    {
        const string start = "property '";
        var from = message.IndexOf(start, StringComparison.Ordinal);
        var to = message.IndexOf("' encountered", StringComparison.Ordinal);
        if (from < 0 || to < from + start.Length)
        {
            return null;
        }

        // The key is the client's text: keep printable ASCII only, so the problem body is always writable.
        var name = string.Concat(message[(from + start.Length)..to].Take(40).Select(c => c is >= ' ' and <= '~' ? c : '?'));
        return to - from - start.Length > 40 ? name + "…" : name;
    }

    private static string Describe(JsonException ex)
    {
        // System.Text.Json's messages name .NET types; say the same thing in the API's terms.
        var message = ex.Message;
        var inner = ex.InnerException?.Message ?? "";
        if (message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            return "Unknown field.";
        }

        if (message.Contains("missing required properties", StringComparison.Ordinal))
        {
            var start = message.IndexOf("including: ", StringComparison.Ordinal);
            return start > 0 ? "Missing required field(s): " + message[(start + 11)..].Split(". Path", 2)[0].TrimEnd('.') + "." : "Missing required field(s).";
        }

        if (message.Contains("uplicate", StringComparison.Ordinal))
        {
            return DuplicateName(message) is { } name ? $"Duplicate property '{name}' (keys are case-sensitive; each may appear once)." : "Duplicate property.";
        }

        if (message.Contains("maximum configured depth", StringComparison.Ordinal))
        {
            return $"Nested too deeply: at most {Strict.MaxDepth} levels of objects and arrays.";
        }

        if (message.Contains("null value", StringComparison.Ordinal) || message.Contains("non-nullable", StringComparison.Ordinal))
        {
            return "Must not be null.";
        }

        if (inner.StartsWith("Cannot get the value of a token type", StringComparison.Ordinal))
        {
            var expected = inner.Contains("as a string", StringComparison.Ordinal) ? "a string"
                : inner.Contains("as a boolean", StringComparison.Ordinal) ? "true or false"
                : inner.Contains("as a number", StringComparison.Ordinal) ? "a number"
                : "another type";
            return $"Wrong type: expected {expected}.";
        }

        if (message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return message.Contains("Guid", StringComparison.Ordinal) ? "Must be an id (UUID string)."
                : message.Contains("Int", StringComparison.Ordinal) ? "Must be an integer in range."
                : "Wrong type or value.";
        }

        return "Malformed JSON.";
    }
}

internal readonly record struct BodyResult<T>(T? Value, IResult? Error) where T : class;
