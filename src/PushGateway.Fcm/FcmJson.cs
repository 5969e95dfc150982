using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace PushGateway.Fcm;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(FcmMessage))]
internal sealed partial class FcmJsonContext : JsonSerializerContext;

/// <summary>The one place that turns messages into bytes, so sending and <see cref="FcmLimits.Measure"/> agree.</summary>
internal static class FcmJson
{
    // Minimal escaping: \uXXXX for non-ASCII text would only inflate the body and its measured size.
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = PushGateway.Providers.MinimalJsonEncoder.Instance,
        Indented = false,
    };

    public static byte[] SerializeMessage(FcmMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            JsonSerializer.Serialize(writer, message, FcmJsonContext.Default.FcmMessage);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] SerializeMessage(JsonObject message)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            message.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static ReadOnlySpan<byte> BodyStart => """{"message":"""u8;
    private static ReadOnlySpan<byte> ValidateOnlyEnd => ""","validate_only":true}"""u8;

    /// <summary>The <c>messages:send</c> request body around already serialized message bytes.</summary>
    public static byte[] BuildSendBody(ReadOnlySpan<byte> message, bool validateOnly)
    {
        var end = validateOnly ? ValidateOnlyEnd : "}"u8;
        var body = new byte[BodyStart.Length + message.Length + end.Length];
        BodyStart.CopyTo(body);
        message.CopyTo(body.AsSpan(BodyStart.Length));
        end.CopyTo(body.AsSpan(BodyStart.Length + message.Length));
        return body;
    }
}

/// <summary>A protobuf <c>Duration</c> in its JSON form: seconds with up to nine decimals and an <c>s</c> suffix (<c>"3.5s"</c>).</summary>
internal sealed class FcmDurationConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Parse(reader.GetString());

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
        writer.WriteStringValue(Format(value));

    public static string Format(TimeSpan value)
    {
        if (value < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "An FCM duration cannot be negative.");
        }

        var seconds = value.Ticks / TimeSpan.TicksPerSecond;
        var fraction = value.Ticks % TimeSpan.TicksPerSecond;
        return fraction == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{seconds}s")
            : string.Create(CultureInfo.InvariantCulture, $"{seconds}.{fraction.ToString("D7", CultureInfo.InvariantCulture).TrimEnd('0')}s");
    }

    public static TimeSpan Parse(string? text)
    {
        if (text is null || !text.EndsWith('s')
            || !decimal.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds))
        {
            throw new JsonException("Expected a duration such as \"3.5s\".");
        }

        return TimeSpan.FromTicks((long)(seconds * TimeSpan.TicksPerSecond));
    }
}

/// <summary>A list of protobuf durations (<c>vibrate_timings</c>).</summary>
internal sealed class FcmDurationListConverter : JsonConverter<IList<TimeSpan>>
{
    public override IList<TimeSpan> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("Expected an array of durations.");
        }

        var list = new List<TimeSpan>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            list.Add(FcmDurationConverter.Parse(reader.GetString()));
        }

        return list;
    }

    public override void Write(Utf8JsonWriter writer, IList<TimeSpan> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var item in value)
        {
            writer.WriteStringValue(FcmDurationConverter.Format(item));
        }

        writer.WriteEndArray();
    }
}

/// <summary>A protobuf <c>Timestamp</c> in its JSON form: RFC 3339 in UTC with a <c>Z</c>.</summary>
internal sealed class FcmTimestampConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
}
