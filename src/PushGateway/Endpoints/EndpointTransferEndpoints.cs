using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Npgsql;
using PushGateway.Data;
using PushGateway.Hosting;

namespace PushGateway.Endpoints;

/// <summary>Bulk import and export of an application's endpoints as NDJSON (project key).</summary>
internal static class EndpointTransferEndpoints
{
    public const string NdjsonType = "application/x-ndjson";
    private const int ExportPage = 10_000;
    private const int FlushBytes = 64 * 1024;

    public static void MapEndpointTransfer(this IEndpointRouteBuilder routes)
    {
        var apps = routes.MapGroup("/v1/applications/{appId:guid}/endpoints").WithTags("Endpoints").RequireProjectKey();
        apps.MapPost("/import", ImportAsync)
            .WithName("importEndpoints")
            .Accepts<string>(NdjsonType)
            .Produces<ImportSummary>()
            .ProblemResponse(StatusCodes.Status400BadRequest, "`events` is neither `none` nor `created` (`validation`). Bad lines do not fail the import; the answer counts and lists them.")
            .ProblemResponse(StatusCodes.Status404NotFound, "The application does not exist in this project.")
            .ProblemResponse(StatusCodes.Status415UnsupportedMediaType, "The body is not sent as application/x-ndjson (`unsupported-media-type`).")
            .WithSummary("Import endpoints from NDJSON ({token, customUserData?, enabled?, userId?, topics?} a line) with SNS create semantics per line; ?events=created raises endpointCreated for each new endpoint (default: none).");
        apps.MapGet("/export", ExportAsync)
            .WithName("exportEndpoints")
            .Produces<string>(StatusCodes.Status200OK, NdjsonType)
            .ProblemResponse(StatusCodes.Status404NotFound, "The application does not exist in this project.")
            .WithSummary("Export the application's endpoints as NDJSON, every field, in endpoint id order (streamed).");
    }

    private static async Task<IResult> ImportAsync(
        Guid appId, HttpContext http, ProjectScope scope, PushGatewayDbContext db, NpgsqlDataSource dataSource, TimeProvider time, string? events,
        CancellationToken cancellationToken)
    {
        var app = await EndpointsEndpoints.FindApplicationAsync(db, scope, appId, cancellationToken);
        if (app is null)
        {
            return Problems.NotFound($"Application {appId} does not exist.");
        }

        var mediaType = http.Request.ContentType?.Split(';')[0].Trim();
        if (!string.Equals(mediaType, NdjsonType, StringComparison.OrdinalIgnoreCase))
        {
            return Problems.Problem(StatusCodes.Status415UnsupportedMediaType, ProblemTypes.UnsupportedMediaType, "Unsupported media type.",
                $"Send the endpoints as {NdjsonType}, one JSON object a line.");
        }

        if (events is not (null or "none" or "created"))
        {
            return Problems.Validation("events", "\"none\" (default) or \"created\" (an endpointCreated event for each endpoint the import creates).");
        }

        // The body is read line by line, so its size is not held in memory: the 1 MiB request limit does not apply here.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }

        var import = new EndpointImport(dataSource, app, events == "created", time.UtcNow());
        using var reader = new StreamReader(http.Request.Body, new UTF8Encoding(false, throwOnInvalidBytes: false), detectEncodingFromByteOrderMarks: false, bufferSize: 64 * 1024);
        try
        {
            await import.RunAsync(reader, cancellationToken);
        }
        catch (Exception ex) when (GatewayApp.IsDatabaseUnavailable(ex) && !cancellationToken.IsCancellationRequested)
        {
            var summary = import.Summary;
            return Problems.Problem(StatusCodes.Status503ServiceUnavailable, ProblemTypes.ServiceUnavailable, "Import interrupted.",
                $"The database became unavailable. Lines 1 to {import.CommittedLines} are committed; send the file again from line {import.CommittedLines + 1}.",
                new Dictionary<string, object?>
                {
                    ["committedLines"] = import.CommittedLines,
                    ["created"] = summary.Created,
                    ["existing"] = summary.Existing,
                    ["conflicts"] = summary.Conflicts,
                    ["invalid"] = summary.Invalid,
                });
        }

        return TypedResults.Ok(import.Summary);
    }

    private static async Task<IResult> ExportAsync(Guid appId, ProjectScope scope, PushGatewayDbContext db, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        if (await EndpointsEndpoints.FindApplicationAsync(db, scope, appId, cancellationToken) is null)
        {
            return Problems.NotFound($"Application {appId} does not exist.");
        }

        return Results.Stream(async stream =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            // One page is written into a buffer and then to the response asynchronously (Kestrel allows no synchronous writes).
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(2 * FlushBytes);
            var after = Guid.Empty;
            while (true)
            {
                await using var command = new NpgsqlCommand("""
                    SELECT e.id, e.token, e.custom_user_data, e.enabled, e.user_id,
                           ARRAY(SELECT t.name FROM topic_subscriptions s JOIN topics t ON t.id = s.topic_id WHERE s.endpoint_id = e.id ORDER BY t.name)
                    FROM endpoints e WHERE e.application_id = @a AND e.id > @after ORDER BY e.id LIMIT @n
                    """, connection);
                command.Parameters.Add(new NpgsqlParameter<Guid>("a", appId));
                command.Parameters.Add(new NpgsqlParameter<Guid>("after", after));
                command.Parameters.Add(new NpgsqlParameter<int>("n", ExportPage));
                var rows = 0;
                await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
                {
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        rows++;
                        after = reader.GetGuid(0);
                        WriteLine(buffer, reader);
                        // Written out while the page is still being read: PostgreSQL goes on producing rows into the
                        // socket meanwhile, instead of the two taking turns once a page.
                        if (buffer.WrittenCount >= FlushBytes)
                        {
                            await stream.WriteAsync(buffer.WrittenMemory, cancellationToken);
                            buffer.ResetWrittenCount();
                        }
                    }
                }

                await stream.WriteAsync(buffer.WrittenMemory, cancellationToken);
                buffer.ResetWrittenCount();
                await stream.FlushAsync(cancellationToken);
                if (rows < ExportPage)
                {
                    return;
                }
            }
        }, NdjsonType);
    }

    private static void WriteLine(System.Buffers.ArrayBufferWriter<byte> buffer, NpgsqlDataReader reader)
    {
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", reader.GetGuid(0));
            writer.WriteString("token", reader.GetString(1));
            if (!reader.IsDBNull(2))
            {
                writer.WriteString("customUserData", reader.GetString(2));
            }

            writer.WriteBoolean("enabled", reader.GetBoolean(3));
            if (!reader.IsDBNull(4))
            {
                writer.WriteString("userId", reader.GetString(4));
            }

            writer.WriteStartArray("topics");
            foreach (var topic in reader.GetFieldValue<string[]>(5))
            {
                writer.WriteStringValue(topic);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        System.Buffers.BuffersExtensions.Write(buffer, "\n"u8);
    }
}
