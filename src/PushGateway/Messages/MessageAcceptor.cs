using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using NpgsqlTypes;
using PushGateway.Data;
using PushGateway.Hosting;

namespace PushGateway.Messages;

/// <summary>What became of one message of a request: accepted (queued) or refused with a problem.</summary>
internal sealed record AcceptedItem(MessageAccepted? Accepted, ProblemDetails? Problem);

internal abstract record AcceptOutcome
{
    /// <summary>Everything valid was committed; <see cref="Items"/> follows request order.</summary>
    public sealed record Done(IReadOnlyList<AcceptedItem> Items) : AcceptOutcome;

    /// <summary>The same Idempotency-Key and body were seen within 24 hours: the stored first response.</summary>
    public sealed record Replay(int StatusCode, string Body) : AcceptOutcome;

    /// <summary>The Idempotency-Key was used with another body.</summary>
    public sealed record KeyConflict : AcceptOutcome;
}

internal sealed record IdempotencyRequest(string Key, string RequestHash);

/// <summary>
/// Accepting messages: resolve targets, check sizes against the platforms actually targeted, and commit the
/// messages in one transaction. Endpoint and endpoint-list targets get their deliveries in that transaction; fan-out
/// targets (users, topics, applications) get a <c>message_expansions</c> row instead, and <see cref="FanOutExpander"/>
/// inserts their deliveries after the commit in keyset batches, so the 202 never waits for a million rows.
/// </summary>
internal sealed class MessageAcceptor(NpgsqlDataSource dataSource, TimeProvider time, DeliverySignal signal, ExpansionSignal expansionSignal)
{
    /// <summary>
    /// A fan-out message that leaves less room than this for the FCM token is checked against the longest targeted
    /// token before it is accepted (a scan of the target); with more room it is not (real FCM tokens are a few
    /// hundred characters), and an endpoint whose token is longer still fails on its own (the FCM client refuses it).
    /// </summary>
    internal const int FcmTokenRoomChecked = 1024;
    private static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(24);
    /// <summary>A TTL of 0 means "now or never": one attempt, allowed this long in the queue.</summary>
    internal static readonly TimeSpan ZeroTtlGrace = TimeSpan.FromSeconds(30);

    /// <summary>
    /// <paramref name="messages"/>: prepared messages, or null for the ones that failed validation (their problem is
    /// already in <paramref name="invalid"/> at the same index). <paramref name="render"/> turns the items into the
    /// stored response for idempotent replays.
    /// </summary>
    public async Task<AcceptOutcome> AcceptAsync(
        Guid projectId,
        IReadOnlyList<PreparedMessage?> messages,
        IReadOnlyList<ProblemDetails?> invalid,
        IdempotencyRequest? idempotency,
        Func<IReadOnlyList<AcceptedItem>, (int Status, string Body)> render,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (idempotency is null && messages is [{ TargetKind: TargetKinds.Endpoint } single]
            && await AcceptToOneEndpointAsync(connection, projectId, single, time.UtcNow(), cancellationToken) is { } item)
        {
            if (item.Accepted is not null)
            {
                signal.Notify();
            }

            return new AcceptOutcome.Done([item]);
        }

        // An explicit transaction only where the writes are more than one statement (an idempotency key, fan-outs,
        // skipped targets' counts): messages to listed endpoints are one statement, atomic on its own, and the reads
        // before it need no transaction (each statement reads committed data either way).
        NpgsqlTransaction? transaction = null;
        await using var transactionScope = new TransactionScope(() => transaction);
        var now = time.UtcNow();

        if (idempotency is not null)
        {
            transaction = await connection.BeginTransactionAsync(cancellationToken);
            var previous = await ClaimIdempotencyKeyAsync(connection, transaction, projectId, idempotency, now, cancellationToken);
            if (previous is not null)
            {
                await transaction.RollbackAsync(cancellationToken);
                return previous;
            }
        }

        var items = new AcceptedItem?[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i] is null)
            {
                items[i] = new AcceptedItem(null, invalid[i]);
            }
        }

        var endpoints = await LoadListedEndpointsAsync(connection, transaction, projectId, messages, cancellationToken);
        var plans = new List<Plan>();
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i] is not { } message)
            {
                continue;
            }

            var (plan, problem) = await PlanAsync(connection, transaction, projectId, message, endpoints, now, cancellationToken);
            if (problem is not null)
            {
                items[i] = new AcceptedItem(null, problem);
            }
            else
            {
                plan!.Index = i;
                plans.Add(plan);
            }
        }

        if (plans.Count > 0)
        {
            if (transaction is null && plans.Any(p => p.FanOut is not null))
            {
                transaction = await connection.BeginTransactionAsync(cancellationToken);
            }

            await InsertMessagesAsync(connection, transaction, projectId, plans, idempotency?.Key, now, cancellationToken);
            await InsertExpansionsAsync(connection, transaction, plans, now, cancellationToken);

            foreach (var plan in plans)
            {
                items[plan.Index] = new AcceptedItem(new MessageAccepted(plan.Id, "accepted", plan.TargetCount), null);
            }
        }

        var result = items.Select(i => i!).ToList();
        if (idempotency is not null)
        {
            var (status, body) = render(result);
            await using var store = new NpgsqlCommand(
                "UPDATE idempotency_keys SET status_code = @status, response = @response::json WHERE project_id = @p AND key = @k", connection, transaction);
            store.Parameters.Add(new NpgsqlParameter<int>("status", status));
            store.Parameters.Add(new NpgsqlParameter<string>("response", body));
            store.Parameters.Add(new NpgsqlParameter<Guid>("p", projectId));
            store.Parameters.Add(new NpgsqlParameter<string>("k", idempotency.Key));
            await store.ExecuteNonQueryAsync(cancellationToken);
        }

        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }

        if (plans.Any(p => p.FanOut is null))
        {
            signal.Notify();
        }

        if (plans.Any(p => p.FanOut is not null))
        {
            expansionSignal.Notify();
        }

        return new AcceptOutcome.Done(result);
    }

    /// <summary>
    /// Inserts the key first: a concurrent request with the same key waits on the unique index until this
    /// transaction ends, then finds the stored response. Null means "go ahead".
    /// </summary>
    private static async Task<AcceptOutcome?> ClaimIdempotencyKeyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid projectId, IdempotencyRequest idempotency, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using (var purge = new NpgsqlCommand(
            "DELETE FROM idempotency_keys WHERE project_id = @p AND key = @k AND created_at < @cutoff", connection, transaction))
        {
            purge.Parameters.Add(new NpgsqlParameter<Guid>("p", projectId));
            purge.Parameters.Add(new NpgsqlParameter<string>("k", idempotency.Key));
            purge.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("cutoff", now - IdempotencyWindow));
            await purge.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var insert = new NpgsqlCommand("""
            INSERT INTO idempotency_keys (project_id, key, request_hash, status_code, response, created_at)
            VALUES (@p, @k, @h, 0, '{}', @now) ON CONFLICT DO NOTHING
            """, connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter<Guid>("p", projectId));
            insert.Parameters.Add(new NpgsqlParameter<string>("k", idempotency.Key));
            insert.Parameters.Add(new NpgsqlParameter<string>("h", idempotency.RequestHash));
            insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                return null;
            }
        }

        await using var select = new NpgsqlCommand(
            "SELECT request_hash, status_code, response::text FROM idempotency_keys WHERE project_id = @p AND key = @k", connection, transaction);
        select.Parameters.Add(new NpgsqlParameter<Guid>("p", projectId));
        select.Parameters.Add(new NpgsqlParameter<string>("k", idempotency.Key));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return reader.GetString(0) == idempotency.RequestHash
            ? new AcceptOutcome.Replay(reader.GetInt32(1), reader.GetString(2))
            : new AcceptOutcome.KeyConflict();
    }

    private sealed record ListedEndpoint(Guid Id, Guid ApplicationId, bool Enabled, string? DisabledReason, string Platform, int TokenLength);

    private sealed class Plan
    {
        public Guid Id { get; } = Guid.CreateVersion7();
        public int Index { get; set; }
        public required PreparedMessage Message { get; init; }
        public required DateTimeOffset ExpiresAt { get; init; }
        public List<(Guid EndpointId, Guid ApplicationId, bool Enabled)> Listed { get; } = [];
        /// <summary>For user/users/topic/application targets: expanded after the commit.</summary>
        public FanOutTarget? FanOut { get; set; }
        /// <summary>Null for a fan-out: known when its expansion finishes.</summary>
        public int? TargetCount { get; set; }
    }

    private static async Task<Dictionary<Guid, ListedEndpoint>> LoadListedEndpointsAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid projectId, IReadOnlyList<PreparedMessage?> messages, CancellationToken cancellationToken)
    {
        var ids = new HashSet<Guid>();
        foreach (var m in messages)
        {
            if (m?.EndpointId is { } id)
            {
                ids.Add(id);
            }
            else if (m?.TargetKind == TargetKinds.Endpoints)
            {
                foreach (var node in m.Target["endpointIds"]!.AsArray())
                {
                    ids.Add(node!.GetValue<Guid>());
                }
            }
        }

        var found = new Dictionary<Guid, ListedEndpoint>();
        if (ids.Count == 0)
        {
            return found;
        }

        // One endpoint (the common send) is looked up by `=`, not `= ANY(array)`: PostgreSQL estimates an array
        // parameter at ten elements in a generic plan, finds the custom plan for one element cheaper and then plans
        // the statement anew on every call (139 µs of planning for 24 µs of execution, pg_stat_statements with
        // track_planning); with a scalar the prepared statement keeps its generic plan.
        await using var command = new NpgsqlCommand($"""
            SELECT e.id, e.application_id, e.enabled, e.disabled_reason, a.platform, length(e.token)
            FROM endpoints e JOIN applications a ON a.id = e.application_id
            WHERE e.project_id = @p AND {(ids.Count == 1 ? "e.id = @id" : "e.id = ANY(@ids)")}
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid>("p", projectId));
        if (ids.Count == 1)
        {
            command.Parameters.Add(new NpgsqlParameter<Guid>("id", ids.First()));
        }
        else
        {
            command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", ids.ToArray()));
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var e = new ListedEndpoint(reader.GetGuid(0), reader.GetGuid(1), reader.GetBoolean(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4), reader.GetInt32(5));
            found[e.Id] = e;
        }

        return found;
    }

    private static async Task<(Plan? Plan, ProblemDetails? Problem)> PlanAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid projectId, PreparedMessage message,
        Dictionary<Guid, ListedEndpoint> endpoints, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var plan = new Plan
        {
            Message = message,
            ExpiresAt = message.TtlSeconds == 0 ? now + ZeroTtlGrace : now.AddSeconds(message.TtlSeconds),
        };

        switch (message.TargetKind)
        {
            case TargetKinds.Endpoint:
            {
                var id = message.EndpointId!.Value;
                if (!endpoints.TryGetValue(id, out var e))
                {
                    return (null, EndpointNotFound(id));
                }

                if (!e.Enabled)
                {
                    return (null, EndpointDisabled(id, e.DisabledReason));
                }

                if (SizeProblem(message, [e]) is { } tooBig)
                {
                    return (null, tooBig);
                }

                plan.Listed.Add((e.Id, e.ApplicationId, true));
                plan.TargetCount = 1;
                return (plan, null);
            }

            case TargetKinds.Endpoints:
            {
                var ids = message.Target["endpointIds"]!.AsArray().Select(n => n!.GetValue<Guid>()).ToList();
                var unknown = ids.Where(id => !endpoints.ContainsKey(id)).ToList();
                if (unknown.Count > 0)
                {
                    return (null, Problems.Details(404, ProblemTypes.NotFound, "Not found.",
                        $"{unknown.Count} of the endpoints do not exist.", new Dictionary<string, object?> { ["unknownEndpointIds"] = unknown }));
                }

                var listed = ids.Select(id => endpoints[id]).ToList();
                if (SizeProblem(message, listed.Where(e => e.Enabled).ToList()) is { } tooBig)
                {
                    return (null, tooBig);
                }

                plan.Listed.AddRange(listed.Select(e => (e.Id, e.ApplicationId, e.Enabled)));
                plan.TargetCount = listed.Count;
                return (plan, null);
            }

            case TargetKinds.User:
            case TargetKinds.Users:
            {
                var users = message.TargetKind == TargetKinds.User
                    ? [message.Target["userId"]!.GetValue<string>()]
                    : message.Target["userIds"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
                plan.FanOut = new FanOutTarget(message.TargetKind, null, users);
                break;
            }

            case TargetKinds.Topic:
            {
                await using var find = new NpgsqlCommand("SELECT id FROM topics WHERE project_id = @p AND name = @n", connection, transaction);
                find.Parameters.Add(new NpgsqlParameter<Guid>("p", projectId));
                find.Parameters.Add(new NpgsqlParameter<string>("n", message.Target["topic"]!.GetValue<string>()));
                if (await find.ExecuteScalarAsync(cancellationToken) is not Guid topicId)
                {
                    return (null, Problems.Details(404, ProblemTypes.NotFound, "Not found.", $"Topic '{message.Target["topic"]}' does not exist."));
                }

                plan.FanOut = new FanOutTarget(TargetKinds.Topic, topicId, null);
                break;
            }

            case TargetKinds.Application:
            {
                var applicationId = message.Target["applicationId"]!.GetValue<Guid>();
                await using var find = new NpgsqlCommand("SELECT 1 FROM applications WHERE project_id = @p AND id = @a", connection, transaction);
                find.Parameters.Add(new NpgsqlParameter<Guid>("p", projectId));
                find.Parameters.Add(new NpgsqlParameter<Guid>("a", applicationId));
                if (await find.ExecuteScalarAsync(cancellationToken) is null)
                {
                    return (null, Problems.Details(404, ProblemTypes.NotFound, "Not found.", $"Application {applicationId} does not exist."));
                }

                plan.FanOut = new FanOutTarget(TargetKinds.Application, applicationId, null);
                break;
            }
        }

        return await FanOutSizeProblemAsync(connection, transaction, projectId, message, plan.FanOut!, cancellationToken) is { } problem
            ? (null, problem)
            : (plan, null);
    }

    /// <summary>
    /// The size check of a fan-out needs which platforms are targeted and the longest FCM token, which only a scan of
    /// the whole target can tell. So the target is only looked at where that can change the answer: for a platform
    /// whose limit the payload exceeds whatever the token (does the target have an enabled endpoint there?), and for
    /// FCM tokens when the message leaves less than <see cref="FcmTokenRoomChecked"/> characters for the token.
    /// </summary>
    private static async Task<ProblemDetails?> FanOutSizeProblemAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid projectId, PreparedMessage message, FanOutTarget target, CancellationToken cancellationToken)
    {
        if (message.CheckSize(hasApns: true, 0) is { } apns && await TargetsAnyAsync("a.platform = 'apns'", null))
        {
            return TooLarge(apns);
        }

        if (message.CheckSize(hasApns: false, 1) is { } fcm)
        {
            return await TargetsAnyAsync("a.platform = 'fcm'", null) ? TooLarge(fcm) : null;
        }

        var room = message.FcmTokenRoom();
        if (room >= FcmTokenRoomChecked || !await TargetsAnyAsync("a.platform = 'fcm' AND length(e.token) > @room", room))
        {
            return null;
        }

        return message.CheckSize(hasApns: false, room + 1) is { } longer ? TooLarge(longer) : null;

        async Task<bool> TargetsAnyAsync(string condition, int? tokenRoom)
        {
            await using var probe = new NpgsqlCommand($"SELECT EXISTS (SELECT 1 {target.FromWhere} AND e.enabled AND {condition})", connection, transaction);
            target.Bind(probe.Parameters, projectId);
            if (tokenRoom is { } r)
            {
                probe.Parameters.Add(new NpgsqlParameter<int>("room", r));
            }

            return await probe.ExecuteScalarAsync(cancellationToken) is true;
        }
    }

    private static ProblemDetails EndpointNotFound(Guid id) =>
        Problems.Details(404, ProblemTypes.NotFound, "Not found.", $"Endpoint {id} does not exist.");

    private static ProblemDetails EndpointDisabled(Guid id, string? reason) =>
        Problems.Details(409, ProblemTypes.EndpointDisabled, "Endpoint is disabled.",
            $"Endpoint {id} is disabled{(reason is null ? "" : $" ({reason})")}; register a current token to enable it.",
            new Dictionary<string, object?> { ["endpointId"] = id, ["disabledReason"] = reason });

    /// <summary>
    /// <c>POST /v1/messages</c> to one endpoint without an idempotency key, the commonest send, in one statement: the
    /// endpoint is read, and only when it is enabled and the payload fits its platform are its delivery and the message
    /// written (a data-modifying CTE is atomic with the rest of its statement). Whether it fits is decided in the
    /// statement from what the gateway computed beforehand: the APNs payload against its limit, and for FCM the longest
    /// token the message fits with (<see cref="PreparedMessage.FcmTokenRoom"/>). Null means "take the general path",
    /// which only a disagreement between that room and <see cref="PreparedMessage.CheckSize"/> would lead to.
    /// </summary>
    private async Task<AcceptedItem?> AcceptToOneEndpointAsync(
        NpgsqlConnection connection, Guid projectId, PreparedMessage message, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var endpointId = message.EndpointId!.Value;
        var id = Guid.CreateVersion7();
        var expires = message.TtlSeconds == 0 ? now + ZeroTtlGrace : now.AddSeconds(message.TtlSeconds);
        await using var command = new NpgsqlCommand("""
            WITH target AS (
                SELECT e.id, e.application_id, e.enabled, e.disabled_reason, a.platform, length(e.token) AS token_length
                FROM endpoints e JOIN applications a ON a.id = e.application_id
                WHERE e.project_id = @p AND e.id = @endpoint),
            inserted AS (
                INSERT INTO deliveries (message_id, endpoint_id, application_id, state, attempts, next_attempt_at, expires_at)
                SELECT @id, t.id, t.application_id, 'pending', 0, @now, @expires
                FROM target t
                WHERE t.enabled AND CASE WHEN t.platform = 'apns' THEN @apns_fits ELSE t.token_length <= @fcm_room END
                RETURNING id),
            message AS (
                INSERT INTO messages (id, project_id, target_kind, target, created_at, expires_at, ttl_seconds, target_count,
                                      apns_payload, apns_push_type, apns_priority, apns_topic, collapse_key, fcm_message,
                                      first_delivery_id, last_delivery_id)
                SELECT @id, @p, @kind, @target::json, @now, @expires, @ttl, 1, @apns, @push_type, @priority, @topic, @collapse, @fcm::json, i.id, i.id
                FROM inserted i
                RETURNING id)
            SELECT t.enabled, t.disabled_reason, t.platform, t.token_length, EXISTS (SELECT 1 FROM message)
            FROM target t
            """, connection);
        var p = command.Parameters;
        p.Add(new NpgsqlParameter<Guid>("p", projectId));
        p.Add(new NpgsqlParameter<Guid>("endpoint", endpointId));
        p.Add(new NpgsqlParameter<Guid>("id", id));
        p.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        p.Add(new NpgsqlParameter<DateTimeOffset>("expires", expires));
        p.Add(new NpgsqlParameter<bool>("apns_fits", message.CheckSize(hasApns: true, 0) is null));
        p.Add(new NpgsqlParameter<int>("fcm_room", message.FcmTokenRoom()));
        p.Add(new NpgsqlParameter<string>("kind", message.TargetKind));
        p.Add(new NpgsqlParameter<string>("target", message.Target.ToJsonString()));
        p.Add(new NpgsqlParameter<int>("ttl", message.TtlSeconds));
        p.Add(new NpgsqlParameter("apns", NpgsqlDbType.Bytea) { Value = message.ApnsPayload });
        p.Add(new NpgsqlParameter("push_type", NpgsqlDbType.Text) { Value = (object?)Apns.ApnsPushTypes.ToHeaderValue(message.ApnsPushType) ?? DBNull.Value });
        p.Add(new NpgsqlParameter<int>("priority", message.ApnsPriority));
        p.Add(new NpgsqlParameter("topic", NpgsqlDbType.Text) { Value = (object?)message.ApnsTopic ?? DBNull.Value });
        p.Add(new NpgsqlParameter("collapse", NpgsqlDbType.Text) { Value = (object?)message.CollapseKey ?? DBNull.Value });
        p.Add(new NpgsqlParameter<string>("fcm", message.FcmMessageJson));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return new AcceptedItem(null, EndpointNotFound(endpointId));
        }

        if (reader.GetBoolean(4))
        {
            return new AcceptedItem(new MessageAccepted(id, "accepted", 1), null);
        }

        if (!reader.GetBoolean(0))
        {
            return new AcceptedItem(null, EndpointDisabled(endpointId, reader.IsDBNull(1) ? null : reader.GetString(1)));
        }

        var isApns = reader.GetString(2) == Platforms.Apns;
        var tooBig = message.CheckSize(isApns, isApns ? 0 : reader.GetInt32(3));
        return tooBig is null ? null : new AcceptedItem(null, TooLarge(tooBig));
    }

    private static ProblemDetails TooLarge(string detail) =>
        Problems.Details(413, ProblemTypes.PayloadTooLarge, "Payload too large.", detail);

    private static ProblemDetails? SizeProblem(PreparedMessage message, IReadOnlyCollection<ListedEndpoint> targets)
    {
        var hasApns = targets.Any(e => e.Platform == Platforms.Apns);
        var maxFcmToken = targets.Where(e => e.Platform == Platforms.Fcm).Select(e => e.TokenLength).DefaultIfEmpty(0).Max();
        return message.CheckSize(hasApns, maxFcmToken) is { } detail
            ? Problems.Details(413, ProblemTypes.PayloadTooLarge, "Payload too large.", detail)
            : null;
    }

    /// <summary>
    /// The messages and their listed endpoints' deliveries in one statement: the deliveries first (nothing references
    /// messages by key), so each message row is written once with its target count and delivery id range.
    /// </summary>
    private static async Task InsertMessagesAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid projectId, List<Plan> plans, string? idempotencyKey, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var rows = plans.SelectMany(p => p.Listed.Select(l => (p.Id, p.ExpiresAt, l.EndpointId, l.ApplicationId, l.Enabled))).ToList();
        await using var command = new NpgsqlCommand("""
            WITH inserted AS (
                INSERT INTO deliveries (message_id, endpoint_id, application_id, state, attempts, next_attempt_at, expires_at, completed_at)
                SELECT d.message_id, d.endpoint_id, d.application_id,
                       CASE WHEN d.enabled THEN 'pending' ELSE 'skipped' END, 0, @now, d.expires,
                       CASE WHEN d.enabled THEN NULL ELSE @now END
                FROM unnest(@d_messages, @d_endpoints, @d_applications, @d_enabled, @d_expires) AS d(message_id, endpoint_id, application_id, enabled, expires)
                RETURNING message_id, id),
            ranges AS (SELECT message_id, min(id) AS first, max(id) AS last FROM inserted GROUP BY message_id)
            INSERT INTO messages (id, project_id, target_kind, target, created_at, expires_at, ttl_seconds, target_count,
                                  idempotency_key, apns_payload, apns_push_type, apns_priority, apns_topic, collapse_key, fcm_message,
                                  first_delivery_id, last_delivery_id)
            SELECT u.id, @p, u.kind, u.target::json, @now, u.expires, u.ttl, u.count, @key, u.apns, u.push_type, u.priority, u.topic, u.collapse, u.fcm::json,
                   r.first, r.last
            FROM unnest(@ids, @kinds, @targets, @expires, @ttls, @counts, @apns, @push_types, @priorities, @topics, @collapses, @fcms)
                 AS u(id, kind, target, expires, ttl, count, apns, push_type, priority, topic, collapse, fcm)
            LEFT JOIN ranges r ON r.message_id = u.id
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid>("p", projectId));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("d_messages", rows.Select(r => r.Id).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("d_endpoints", rows.Select(r => r.EndpointId).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("d_applications", rows.Select(r => r.ApplicationId).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<bool[]>("d_enabled", rows.Select(r => r.Enabled).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("d_expires", rows.Select(r => r.ExpiresAt).ToArray()));
        command.Parameters.Add(new NpgsqlParameter("key", NpgsqlDbType.Text) { Value = (object?)idempotencyKey ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", plans.Select(p => p.Id).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("kinds", plans.Select(p => p.Message.TargetKind).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("targets", plans.Select(p => p.Message.Target.ToJsonString()).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("expires", plans.Select(p => p.ExpiresAt).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<int[]>("ttls", plans.Select(p => p.Message.TtlSeconds).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<int[]>("counts", plans.Select(p => p.TargetCount ?? 0).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<byte[][]>("apns", plans.Select(p => p.Message.ApnsPayload).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("push_types", plans.Select(p => Apns.ApnsPushTypes.ToHeaderValue(p.Message.ApnsPushType)).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<int[]>("priorities", plans.Select(p => p.Message.ApnsPriority).ToArray()));
        command.Parameters.Add(new NpgsqlParameter("topics", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = plans.Select(p => p.Message.ApnsTopic).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("collapses", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = plans.Select(p => p.Message.CollapseKey).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]>("fcms", plans.Select(p => p.Message.FcmMessageJson).ToArray()));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The fan-outs' expansion rows: their deliveries come from <see cref="FanOutExpander"/>.</summary>
    private static async Task InsertExpansionsAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, List<Plan> plans, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var plan in plans.Where(p => p.FanOut is not null))
        {
            await using var command = new NpgsqlCommand("""
                INSERT INTO message_expansions (message_id, scope_id, user_ids, after, batches, updated_at)
                VALUES (@m, @scope, @users, '00000000-0000-0000-0000-000000000000', 0, @now)
                """, connection, transaction);
            command.Parameters.Add(new NpgsqlParameter<Guid>("m", plan.Id));
            command.Parameters.Add(new NpgsqlParameter("scope", NpgsqlDbType.Uuid) { Value = (object?)plan.FanOut!.ScopeId ?? DBNull.Value });
            command.Parameters.Add(new NpgsqlParameter("users", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = (object?)plan.FanOut.UserIds ?? DBNull.Value });
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    internal static string Serialize<T>(T value) => JsonSerializer.Serialize(value, JsonSerializerOptions.Web);

    /// <summary>Disposes the transaction the accept may have begun (rolling it back if it was not committed).</summary>
    private sealed class TransactionScope(Func<NpgsqlTransaction?> current) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => current() is { } transaction ? transaction.DisposeAsync() : ValueTask.CompletedTask;
    }
}
