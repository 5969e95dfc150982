using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace PushGateway.Hosting;

/// <summary>
/// Reads free-form request objects (<c>apns.payload</c>, <c>fcm.message</c>) exactly as JSON defines them: keys
/// compare case-sensitively, and a repeated key is a <see cref="JsonException"/> (a 400), not an exception from the
/// object's dictionary (a 500).
/// </summary>
/// <remarks>
/// The built-in <see cref="JsonObject"/> converter takes its key comparer from the serializer options, and the web
/// defaults (<see cref="JsonSerializerOptions.PropertyNameCaseInsensitive"/>, wanted for our own DTO property names)
/// make it case-insensitive: <c>{"a":1,"A":2}</c> then threw <see cref="ArgumentException"/>, and merges over the
/// generated payload matched <c>APS</c> to <c>aps</c>. It also throws <see cref="ArgumentException"/> for exact
/// duplicates even with <see cref="JsonSerializerOptions.AllowDuplicateProperties"/> off. Going through
/// <see cref="JsonElement"/> applies the options' duplicate and depth checks while reading; the object is then built
/// with an ordinal comparer.
/// </remarks>
internal sealed class FreeFormObjectConverter : JsonConverter<JsonObject>
{
    private static readonly JsonNodeOptions CaseSensitive = new() { PropertyNameCaseInsensitive = false };

    public override JsonObject? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            // No message: the serializer adds its own, with the path ("could not be converted to ... JsonObject").
            throw new JsonException();
        }

        JsonElement element;
        try
        {
            element = JsonSerializer.Deserialize<JsonElement>(ref reader, options);
        }
        catch (JsonException ex)
        {
            // The nested call reports its own root ("$") as the path; a new exception without a path gets this
            // property's path from the serializer, so the error names e.g. "apns.payload".
            throw new JsonException(ex.Message.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0], ex);
        }

        return JsonObject.Create(element, CaseSensitive);
    }

    public override void Write(Utf8JsonWriter writer, JsonObject value, JsonSerializerOptions options) => value.WriteTo(writer, options);
}
