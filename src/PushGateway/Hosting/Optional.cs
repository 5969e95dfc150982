using System.Text.Json;
using System.Text.Json.Serialization;

namespace PushGateway.Hosting;

/// <summary>
/// A JSON property that may be absent, present with null, or present with a value: PATCH and the registration flow
/// treat <c>"userId": null</c> (unbind) differently from no <c>userId</c> at all (leave as is).
/// </summary>
[JsonConverter(typeof(OptionalConverterFactory))]
internal readonly record struct Optional<T>(bool IsSet, T? Value)
{
    public static Optional<T> Unset => default;
}

internal sealed class OptionalConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(Optional<>);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(OptionalConverter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;

    private sealed class OptionalConverter<T> : JsonConverter<Optional<T>>
    {
        public override bool HandleNull => true;

        public override Optional<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.Null)
            {
                return new Optional<T>(true, default);
            }

            return new Optional<T>(true, JsonSerializer.Deserialize<T>(ref reader, options));
        }

        public override void Write(Utf8JsonWriter writer, Optional<T> value, JsonSerializerOptions options) =>
            JsonSerializer.Serialize(writer, value.Value, options);
    }
}
