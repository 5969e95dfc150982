using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Npgsql;
using PushGateway.Data;
using PushGateway.Hosting;
using PushGateway.Quota;

namespace PushGateway.Messages;

internal sealed record MessageCounts(long Total, long Pending, long Delivered, long Failed, long Expired, long Skipped);

/// <summary>
/// A message: <c>status</c> is <c>expanding</c> while a fan-out's deliveries are still being inserted; then
/// <c>targetCount</c> is null and <c>counts</c> cover the deliveries inserted so far.
/// </summary>
internal sealed record MessageResponse(Guid Id, string Status, int? TargetCount, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt, DateTimeOffset ExpiresAt, MessageCounts Counts);

/// <summary>What the provider said: HTTP status, reason, and its id for the notification (APNs <c>apns-id</c>, FCM
/// message name); <c>uniqueId</c> is APNs sandbox's <c>apns-unique-id</c> for Apple's Push Notifications Console.</summary>
internal sealed record ProviderResponse(
    int? Status,
    string? Reason,
    string? Id,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? UniqueId = null);

internal sealed record DeliveryResponse(Guid EndpointId, Guid ApplicationId, string State, int Attempts, DateTimeOffset? LastAttemptAt, DateTimeOffset? CompletedAt, ProviderResponse Provider);

internal sealed record DeliveryPage(IReadOnlyList<DeliveryResponse> Items, string? NextCursor);

/// <summary>One item of the batch answer: <c>{id, status, targetCount}</c> or <c>{error: problem}</c>.</summary>
internal sealed record BatchItem(
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] Guid? Id,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Status,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] int? TargetCount,
    // object, so that a validation problem keeps its errors map when serialized.
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] object? Error);

internal sealed record BatchResponse(IReadOnlyList<BatchItem> Items);

/// <summary>Sending (202 once durably queued) and receipts (project key).</summary>
internal static class MessagesEndpoints
{
    public const int MaxBatch = 500;

    public static void MapMessages(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/messages").WithTags("Messages").RequireProjectKey();
        group.MapPost("/", SendAsync)
            .WithName("sendMessage")
            .Accepts<MessageRequest>("application/json")
            .Produces<MessageAccepted>(StatusCodes.Status202Accepted)
            .ProblemResponse(StatusCodes.Status404NotFound, "A targeted endpoint, topic or application does not exist in this project.")
            .ProblemResponse(StatusCodes.Status413PayloadTooLarge,
                "`payload-too-large`: the body is over 1 MiB, or the payload built for APNs or FCM is over that provider's limit.")
            .ProblemResponse(StatusCodes.Status409Conflict, "`endpoint-disabled`: the targeted endpoint is disabled; `endpointId` and `disabledReason` say which and why.")
            .ProblemResponse(StatusCodes.Status422UnprocessableEntity, IdempotencyReused)
            .ProblemResponse(StatusCodes.Status429TooManyRequests, QuotaExceeded)
            .WithSummary("Send a message to an endpoint, endpoints, a user, users, a topic or every endpoint of an application. 202 once the message is committed: with one delivery per target for endpoint targets; a fan-out (user, users, topic, application) is expanded into deliveries after the 202 (`targetCount` null, `GET /v1/messages/{id}` says `expanding` until done). Optional Idempotency-Key header.");
        group.MapPost("/batch", SendBatchAsync)
            .WithName("sendMessageBatch")
            .Accepts<BatchRequest>("application/json")
            .Produces<BatchResponse>(StatusCodes.Status202Accepted)
            .ProblemResponse(StatusCodes.Status422UnprocessableEntity, IdempotencyReused)
            .ProblemResponse(StatusCodes.Status429TooManyRequests, QuotaExceeded + " A batch counts each valid message; nothing of it is queued.")
            .WithSummary("Send 1..500 messages; each is validated on its own, the valid ones are queued together in one transaction.");
        group.MapGet("/{messageId:guid}", GetAsync)
            .WithName("getMessage")
            .Produces<MessageResponse>()
            .ProblemResponse(StatusCodes.Status404NotFound, MessageMissing)
            .WithSummary("A message's status and counts; `expanding` (and `targetCount` null) while a fan-out's deliveries are still being inserted.");
        group.MapGet("/{messageId:guid}/deliveries", ListDeliveriesAsync)
            .WithName("listDeliveries")
            .Produces<DeliveryPage>()
            .ProblemResponse(StatusCodes.Status400BadRequest, "`state`, `limit` or `cursor` is not valid (`validation`; `errors` names it).")
            .ProblemResponse(StatusCodes.Status404NotFound, MessageMissing)
            .WithSummary("Each endpoint's delivery: state, attempts and the provider's status, reason and id (keyset pagination).");
    }

    private const string IdempotencyReused = "`idempotency-conflict`: this Idempotency-Key was used within 24 hours with a different body.";

    private const string QuotaExceeded =
        "`rate-limited`: the project's send quota (Quota:MessagesPerSecond or Quota:MaxQueuedDeliveries) is used up; nothing is queued. Retry after `Retry-After` seconds.";

    private const string MessageMissing = "The message does not exist in this project.";

    /// <summary>
    /// The batch's elements are read one at a time (each gets its own answer), so the framework sees raw JSON: describe
    /// them as the messages they are, and an item's <c>error</c> as the problem it is.
    /// </summary>
    public static Task DescribeBatch(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var schemas = document.Components?.Schemas ?? new Dictionary<string, IOpenApiSchema>();
        if (schemas.TryGetValue("BatchRequest", out var batch) && batch is OpenApiSchema { Properties: { } request } && request.ContainsKey("messages"))
        {
            request["messages"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                MinItems = 1,
                MaxItems = MaxBatch,
                Items = new OpenApiSchemaReference("MessageRequest", document),
            };
        }

        if (schemas.TryGetValue("BatchItem", out var batchItem) && batchItem is OpenApiSchema { Properties: { } item } && item.ContainsKey("error"))
        {
            item["error"] = new OpenApiSchemaReference(ApiDocumentTransformer.ProblemSchema, document);
        }

        return Task.CompletedTask;
    }

    internal static async Task<IResult> SendAsync(HttpRequest request, ProjectScope scope, MessageAcceptor acceptor, SendQuota quota, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadBytesAsync(request, cancellationToken);
        if (body.Error is not null)
        {
            return body.Error;
        }

        if (ReadIdempotencyKey(request, "/v1/messages", body.Value!, out var idempotency) is { } keyProblem)
        {
            return keyProblem;
        }

        var parsed = JsonBody.Deserialize<MessageRequest>(body.Value);
        if (parsed.Error is not null)
        {
            return parsed.Error;
        }

        var v = new Validation();
        var prepared = PreparedMessage.Prepare(parsed.Value!, v);
        if (prepared is null)
        {
            return v.ToProblem();
        }

        if (quota.Refuse(request.HttpContext.Response, scope.ProjectId, 1) is { } limited)
        {
            return limited;
        }

        var outcome = await acceptor.AcceptAsync(scope.ProjectId, [prepared], [null], idempotency,
            items => (StatusCodes.Status202Accepted, MessageAcceptor.Serialize(items[0].Accepted)), cancellationToken);
        switch (outcome)
        {
            case AcceptOutcome.Replay replay:
                return Results.Content(replay.Body, "application/json", Encoding.UTF8, replay.StatusCode);
            case AcceptOutcome.KeyConflict:
                return KeyConflict();
            case AcceptOutcome.Done { Items: [{ Problem: { } problem }] }:
                return TypedResults.Problem(problem);
            case AcceptOutcome.Done { Items: [{ Accepted: { } accepted }] }:
                return TypedResults.Accepted($"/v1/messages/{accepted.Id}", accepted);
            default:
                throw new InvalidOperationException("Unexpected accept outcome.");
        }
    }

    private static async Task<IResult> SendBatchAsync(HttpRequest request, ProjectScope scope, MessageAcceptor acceptor, SendQuota quota, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadBytesAsync(request, cancellationToken);
        if (body.Error is not null)
        {
            return body.Error;
        }

        if (ReadIdempotencyKey(request, "/v1/messages/batch", body.Value!, out var idempotency) is { } keyProblem)
        {
            return keyProblem;
        }

        var parsed = JsonBody.Deserialize<BatchRequest>(body.Value);
        if (parsed.Error is not null)
        {
            return parsed.Error;
        }

        var elements = parsed.Value!.Messages;
        if (elements.Length is 0 or > MaxBatch)
        {
            return Problems.Validation("messages", $"From 1 to {MaxBatch} messages.");
        }

        var prepared = new PreparedMessage?[elements.Length];
        var invalid = new ProblemDetails?[elements.Length];
        for (var i = 0; i < elements.Length; i++)
        {
            var prefix = $"messages[{i}].";
            var error = JsonBody.TryDeserialize<MessageRequest>(JsonSerializer.SerializeToUtf8Bytes(elements[i]), prefix, out var message);
            if (error is not null)
            {
                invalid[i] = error;
                continue;
            }

            var v = new Validation();
            prepared[i] = PreparedMessage.Prepare(message!, v);
            if (prepared[i] is null)
            {
                invalid[i] = v.ToDetails();
            }
        }

        if (quota.Refuse(request.HttpContext.Response, scope.ProjectId, prepared.Count(p => p is not null)) is { } limited)
        {
            return limited;
        }

        var outcome = await acceptor.AcceptAsync(scope.ProjectId, prepared, invalid, idempotency,
            items => (StatusCodes.Status202Accepted, MessageAcceptor.Serialize(ToBatch(items))), cancellationToken);
        return outcome switch
        {
            AcceptOutcome.Replay replay => Results.Content(replay.Body, "application/json", Encoding.UTF8, replay.StatusCode),
            AcceptOutcome.KeyConflict => KeyConflict(),
            AcceptOutcome.Done done => Results.Content(MessageAcceptor.Serialize(ToBatch(done.Items)), "application/json", Encoding.UTF8, StatusCodes.Status202Accepted),
            _ => throw new InvalidOperationException("Unexpected accept outcome."),
        };
    }

    private static BatchResponse ToBatch(IReadOnlyList<AcceptedItem> items) =>
        new(items.Select(i => i.Accepted is { } a
            ? new BatchItem(a.Id, a.Status, a.TargetCount, null)
            : new BatchItem(null, null, null, i.Problem)).ToList());

    private static IResult KeyConflict() =>
        Problems.IdempotencyConflict("This Idempotency-Key was used within the last 24 hours with a different request body.");

    private static IResult? ReadIdempotencyKey(HttpRequest request, string route, byte[] body, out IdempotencyRequest? idempotency)
    {
        idempotency = null;
        if (!request.Headers.TryGetValue("Idempotency-Key", out var values))
        {
            return null;
        }

        var key = values.ToString();
        if (values.Count != 1 || key.Length is 0 or > 255 || !Validation.IsStorable(key) || key.Any(char.IsControl))
        {
            return Problems.Validation("Idempotency-Key", "One header of 1 to 255 printable characters.");
        }

        // The route is part of the fingerprint: the same key on /messages and /messages/batch is a different request.
        var hash = Convert.ToHexStringLower(SHA256.HashData([.. Encoding.UTF8.GetBytes(route + "\n"), .. body]));
        idempotency = new IdempotencyRequest(key, hash);
        return null;
    }

    /// <summary>
    /// A fan-out's counts come from its counters (<see cref="MessageCounters"/>), a few rows whatever its size; a
    /// message to listed endpoints (at most <see cref="PreparedMessage.MaxListTargets"/> deliveries) counts its
    /// deliveries, found by primary key within its id range. Pending (held included) is what has not finished. It is
    /// <c>sending</c> once a delivery has a result (final or a retry: still pending or held after an attempt, no
    /// lease on it), and <c>expanding</c>, whatever its counts, while its fan-out has a <c>message_expansions</c> row.
    /// </summary>
    internal static async Task<IResult> GetAsync(Guid messageId, ProjectScope scope, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT m.created_at, m.expires_at, m.target_count,
                   coalesce(c.delivered, r.delivered, 0)::bigint, coalesce(c.failed, r.failed, 0)::bigint, coalesce(c.expired, r.expired, 0)::bigint,
                   coalesce(c.skipped, r.skipped, 0)::bigint, coalesce(c.retried, r.retried, 0)::bigint, coalesce(c.last_completed_at, r.last_completed_at),
                   EXISTS (SELECT 1 FROM message_expansions x WHERE x.message_id = m.id)
            FROM messages m
            LEFT JOIN LATERAL (
                SELECT sum(delivered) AS delivered, sum(failed) AS failed, sum(expired) AS expired, sum(skipped) AS skipped,
                       sum(retried) AS retried, max(last_completed_at) AS last_completed_at
                FROM message_counts WHERE message_id = m.id AND {MessageCounters.CountedSql}) c ON true
            LEFT JOIN LATERAL (
                SELECT count(*) FILTER (WHERE d.state = 'delivered') AS delivered, count(*) FILTER (WHERE d.state = 'failed') AS failed,
                       count(*) FILTER (WHERE d.state = 'expired') AS expired, count(*) FILTER (WHERE d.state = 'skipped') AS skipped,
                       count(*) FILTER (WHERE d.state IN ('pending', 'held') AND d.attempts > 0 AND d.lease_owner IS NULL) AS retried,
                       max(d.completed_at) AS last_completed_at
                FROM deliveries d
                WHERE NOT {MessageCounters.CountedSql} AND d.id BETWEEN m.first_delivery_id AND m.last_delivery_id AND d.message_id = m.id) r ON true
            WHERE m.id = @id AND m.project_id = @p
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid>("id", messageId));
        command.Parameters.Add(new NpgsqlParameter<Guid>("p", scope.ProjectId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return Problems.NotFound($"Message {messageId} does not exist.");
        }

        var createdAt = reader.GetFieldValue<DateTimeOffset>(0);
        long total = reader.GetInt32(2), delivered = reader.GetInt64(3), failed = reader.GetInt64(4), expired = reader.GetInt64(5), skipped = reader.GetInt64(6);
        var finished = delivered + failed + expired + skipped;
        var pending = total - finished;
        var expanding = reader.GetBoolean(9);
        var status = expanding ? "expanding" : pending == 0 ? "completed" : finished + reader.GetInt64(7) == 0 ? "accepted" : "sending";
        DateTimeOffset? completedAt = !expanding && pending == 0 ? (reader.IsDBNull(8) ? createdAt : reader.GetFieldValue<DateTimeOffset>(8)) : null;
        var counts = new MessageCounts(total, pending, delivered, failed, expired, skipped);
        return TypedResults.Ok(new MessageResponse(messageId, status, expanding ? null : (int)total, createdAt, completedAt, reader.GetFieldValue<DateTimeOffset>(1), counts));
    }

    private static readonly string[] States = [DeliveryStates.Pending, DeliveryStates.Delivered, DeliveryStates.Failed, DeliveryStates.Expired, DeliveryStates.Skipped];

    internal static async Task<IResult> ListDeliveriesAsync(
        Guid messageId, ProjectScope scope, NpgsqlDataSource dataSource, string? state, string? limit, string? cursor, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var take = 100;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out take) || take is < 1 or > 1000))
        {
            v.Add("limit", "Must be an integer from 1 to 1000.");
        }

        long after = 0;
        if (cursor is not null && !Cursor.TryDecode(cursor, out after))
        {
            v.Add("cursor", "Not a cursor this API returned.");
        }

        if (state is not null && !States.Contains(state))
        {
            v.Add("state", "One of " + string.Join(", ", States) + ".");
        }

        if (!v.IsValid)
        {
            return v.ToProblem();
        }

        long first, last;
        await using (var range = dataSource.CreateCommand("SELECT coalesce(first_delivery_id, 0), coalesce(last_delivery_id, -1) FROM messages WHERE id = @id AND project_id = @p"))
        {
            range.Parameters.Add(new NpgsqlParameter<Guid>("id", messageId));
            range.Parameters.Add(new NpgsqlParameter<Guid>("p", scope.ProjectId));
            await using var rangeReader = await range.ExecuteReaderAsync(cancellationToken);
            if (!await rangeReader.ReadAsync(cancellationToken))
            {
                return Problems.NotFound($"Message {messageId} does not exist.");
            }

            first = rangeReader.GetInt64(0);
            last = rangeReader.GetInt64(1);
        }

        // "held" (waiting for the application's credentials) is still pending as far as callers are concerned.
        var states = state is null ? null : state == DeliveryStates.Pending ? new[] { DeliveryStates.Pending, DeliveryStates.Held } : [state];
        await using var command = dataSource.CreateCommand("""
            SELECT id, endpoint_id, application_id, state, attempts, last_attempt_at, completed_at, provider_status, provider_reason, provider_id, provider_unique_id
            FROM deliveries
            WHERE id BETWEEN @first AND @last AND id > @after AND message_id = @id AND (@states::text[] IS NULL OR state = ANY(@states))
            ORDER BY id LIMIT @take
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid>("id", messageId));
        command.Parameters.Add(new NpgsqlParameter<long>("after", after));
        command.Parameters.Add(new NpgsqlParameter<long>("first", first));
        command.Parameters.Add(new NpgsqlParameter<long>("last", last));
        command.Parameters.Add(new NpgsqlParameter("states", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)states ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter<int>("take", take + 1));
        var items = new List<DeliveryResponse>();
        long lastId = 0;
        var more = false;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (items.Count == take)
            {
                more = true;
                break;
            }

            lastId = reader.GetInt64(0);
            var rowState = reader.GetString(3);
            items.Add(new DeliveryResponse(
                reader.GetGuid(1), reader.GetGuid(2), rowState == DeliveryStates.Held ? DeliveryStates.Pending : rowState, reader.GetInt32(4),
                reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
                reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6),
                new ProviderResponse(
                    reader.IsDBNull(7) ? null : reader.GetInt32(7),
                    reader.IsDBNull(8) ? null : reader.GetString(8),
                    reader.IsDBNull(9) ? null : reader.GetString(9),
                    reader.IsDBNull(10) ? null : reader.GetString(10))));
        }

        return TypedResults.Ok(new DeliveryPage(items, more ? Cursor.Encode(lastId) : null));
    }
}
