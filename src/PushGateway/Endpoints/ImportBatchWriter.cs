using Npgsql;
using NpgsqlTypes;
using PushGateway.Data;
using PushGateway.Delivery;
using PushGateway.Events;

namespace PushGateway.Endpoints;

/// <summary>What one committed batch did.</summary>
internal sealed record ImportBatchResult(long Created, long Existing, long Conflicts, List<ImportProblem> Problems);

/// <summary>
/// Writes one <see cref="ImportBatch"/> in one transaction, set-based (a statement per table, never per line): the
/// endpoints (INSERT … ON CONFLICT DO NOTHING RETURNING), the stored attributes of the tokens that already existed,
/// then in one round trip the batch's topics, the subscriptions and, when asked for, the endpointCreated events.
/// </summary>
internal sealed class ImportBatchWriter(NpgsqlConnection connection, Application app, bool raiseEvents, DateTimeOffset now)
{
    private const int MaxAttempts = 3;

    public async Task<ImportBatchResult> WriteAsync(ImportBatch batch, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                var result = await WriteAsync(batch, transaction, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return result;
            }
            catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure && attempt < MaxAttempts)
            {
                // Another writer (a registration, another import) took the same rows in another order: the batch was
                // rolled back whole, so it is simply written again.
            }
        }
    }

    private async Task<ImportBatchResult> WriteAsync(ImportBatch batch, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var created = await InsertAsync(batch.Lines, transaction, cancellationToken);
        var existing = created.Count == batch.Lines.Count
            ? new Dictionary<string, Stored>(StringComparer.Ordinal)
            : await ExistingAsync(batch.Lines.Where(l => !created.ContainsKey(l.Token)).Select(l => l.Token).ToArray(), transaction, cancellationToken);
        var problems = new List<ImportProblem>();
        var createdPairs = new List<(Guid EndpointId, string Topic)>();
        var keptPairs = new List<(Guid EndpointId, string Topic)>();
        var events = new List<OutboxEvent>();
        long kept = 0, conflicts = 0;
        foreach (var line in batch.Lines)
        {
            if (created.TryGetValue(line.Token, out var id))
            {
                createdPairs.AddRange(line.Topics.Select(t => (id, t)));
                if (raiseEvents)
                {
                    events.Add(EventOutbox.Create(EventTypes.EndpointCreated, ToEndpoint(id, line), app.ProjectId, now));
                }
            }
            else if (existing.TryGetValue(line.Token, out var stored))
            {
                var same = (!line.CustomUserData.IsSet || line.CustomUserData.Value == stored.CustomUserData)
                    && (line.Enabled is null || line.Enabled == stored.Enabled)
                    && (!line.UserId.IsSet || line.UserId.Value == stored.UserId);
                if (same)
                {
                    kept++;
                    keptPairs.AddRange(line.Topics.Select(t => (stored.Id, t)));
                }
                else
                {
                    conflicts++;
                    problems.Add(new ImportProblem(line.Number, "conflict",
                        $"Endpoint {stored.Id} already exists with the same token, but different attributes; left unchanged.", stored.Id));
                }
            }
        }

        await SubscribeAsync(createdPairs, keptPairs, events, transaction, cancellationToken);
        return new ImportBatchResult(created.Count, kept, conflicts, problems);
    }

    private PlatformEndpoint ToEndpoint(Guid id, ImportLine line) => new()
    {
        Id = id,
        ProjectId = app.ProjectId,
        ApplicationId = app.Id,
        Token = line.Token,
        Enabled = line.Enabled ?? true,
        CustomUserData = line.CustomUserData.Value,
        UserId = line.UserId.Value,
        CreatedAt = now,
        UpdatedAt = now,
        TokenUpdatedAt = now,
        DisabledAt = line.Enabled == false ? now : null,
        DisabledReason = line.Enabled == false ? "manual" : null,
    };

    /// <summary>One INSERT … SELECT FROM unnest for the batch; returns the tokens this batch created, with their ids.</summary>
    private async Task<Dictionary<string, Guid>> InsertAsync(List<ImportLine> lines, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var ids = new Guid[lines.Count];
        var tokens = new string[lines.Count];
        var enabled = new bool[lines.Count];
        var data = new string?[lines.Count];
        var users = new string?[lines.Count];
        for (var i = 0; i < lines.Count; i++)
        {
            ids[i] = Guid.CreateVersion7();
            tokens[i] = lines[i].Token;
            enabled[i] = lines[i].Enabled ?? true;
            data[i] = lines[i].CustomUserData.Value;
            users[i] = lines[i].UserId.Value;
        }

        await using var command = new NpgsqlCommand("""
            INSERT INTO endpoints (id, project_id, application_id, token, enabled, custom_user_data, user_id,
                                   created_at, updated_at, token_updated_at, disabled_at, disabled_reason)
            SELECT u.id, @p, @a, u.token, u.enabled, u.data, u.user_id, @now, @now, @now,
                   CASE WHEN u.enabled THEN NULL ELSE @now END, CASE WHEN u.enabled THEN NULL ELSE 'manual' END
            FROM unnest(@ids, @tokens, @enabled, @data, @users) AS u(id, token, enabled, data, user_id)
            ON CONFLICT (application_id, token) DO NOTHING
            RETURNING token, id
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid>("p", app.ProjectId));
        command.Parameters.Add(new NpgsqlParameter<Guid>("a", app.Id));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", ids));
        command.Parameters.Add(new NpgsqlParameter<string[]>("tokens", tokens));
        command.Parameters.Add(new NpgsqlParameter<bool[]>("enabled", enabled));
        command.Parameters.Add(new NpgsqlParameter("data", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = data });
        command.Parameters.Add(new NpgsqlParameter("users", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = users });
        var created = new Dictionary<string, Guid>(lines.Count, StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            created[reader.GetString(0)] = reader.GetGuid(1);
        }

        return created;
    }

    private sealed record Stored(Guid Id, string? CustomUserData, bool Enabled, string? UserId);

    private async Task<Dictionary<string, Stored>> ExistingAsync(string[] tokens, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT token, id, custom_user_data, enabled, user_id FROM endpoints WHERE application_id = @a AND token = ANY(@tokens)", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid>("a", app.Id));
        command.Parameters.Add(new NpgsqlParameter<string[]>("tokens", tokens));
        var found = new Dictionary<string, Stored>(tokens.Length, StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found[reader.GetString(0)] = new Stored(reader.GetGuid(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetBoolean(3),
                reader.IsDBNull(4) ? null : reader.GetString(4));
        }

        return found;
    }

    /// <summary>
    /// In one round trip: the batch's topics when absent (in name order, so two writers never wait on each other in a
    /// cycle), the created endpoints' subscriptions (plain INSERT: a new endpoint has none yet, and skipping the
    /// conflict check is measurably cheaper), the kept endpoints' ones (idempotent) and the events.
    /// </summary>
    private async Task SubscribeAsync(List<(Guid EndpointId, string Topic)> createdPairs, List<(Guid EndpointId, string Topic)> keptPairs,
        List<OutboxEvent> events, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        if (events.Count > 0)
        {
            await ResultStore.InsertEventsAsync(connection, transaction, events, cancellationToken);
        }

        if (createdPairs.Count + keptPairs.Count == 0)
        {
            return;
        }

        await using var batch = new NpgsqlBatch(connection, transaction);
        var names = createdPairs.Concat(keptPairs).Select(p => p.Topic).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        batch.BatchCommands.Add(Command("""
            INSERT INTO topics (id, project_id, name, created_at)
            SELECT gen_random_uuid(), @p, n, @now FROM unnest(@names) AS n
            ON CONFLICT (project_id, name) DO NOTHING
            """, new NpgsqlParameter<string[]>("names", names)));
        foreach (var (pairs, conflict) in new[] { (createdPairs, ""), (keptPairs, "ON CONFLICT DO NOTHING") })
        {
            if (pairs.Count > 0)
            {
                batch.BatchCommands.Add(Command($"""
                    INSERT INTO topic_subscriptions (topic_id, endpoint_id, created_at)
                    SELECT t.id, u.endpoint_id, @now FROM unnest(@endpoints, @names) AS u(endpoint_id, name)
                    JOIN topics t ON t.project_id = @p AND t.name = u.name
                    {conflict}
                    """,
                    new NpgsqlParameter<Guid[]>("endpoints", pairs.Select(p => p.EndpointId).ToArray()),
                    new NpgsqlParameter<string[]>("names", pairs.Select(p => p.Topic).ToArray())));
            }
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    private NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<Guid>("p", app.ProjectId));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        command.Parameters.AddRange(parameters);
        return command;
    }
}
