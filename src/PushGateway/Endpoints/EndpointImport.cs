using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;
using PushGateway.Data;
using PushGateway.Events;
using PushGateway.Hosting;
using PushGateway.Topics;

namespace PushGateway.Endpoints;

/// <summary>One problem line of an import: its number (from 1), what kind (invalid or conflict) and why.</summary>
internal sealed record ImportProblem(long Line, string Kind, string Error, Guid? EndpointId = null);

internal sealed record ImportSummary(long Lines, long Created, long Existing, long Conflicts, long Invalid, IReadOnlyList<ImportProblem> Problems);

/// <summary>
/// Bulk import of endpoints from NDJSON with SNS create semantics per line: new token → created; existing token whose
/// supplied attributes match → existing (kept as it is); supplied attributes that differ → conflict, left unchanged.
/// Lines are read one at a time and written in batches of <see cref="BatchSize"/>, one transaction each (endpoints,
/// topics, subscriptions, and endpointCreated events when asked for), so memory stays flat whatever the size and a
/// failure leaves every committed batch whole: <see cref="CommittedLines"/> says where to resume.
/// </summary>
internal sealed class EndpointImport(PushGatewayDbContext db, Application app, bool raiseEvents, DateTimeOffset now)
{
    public const int BatchSize = 1000;
    public const int MaxProblems = 100;

    private sealed record Line(long Number, string Token, Optional<string> CustomUserData, bool? Enabled, Optional<string> UserId, string[] Topics);

    private readonly List<Line> _batch = [];
    private readonly HashSet<string> _batchTokens = new(StringComparer.Ordinal);
    private readonly List<ImportProblem> _problems = [];
    private long _created, _existing, _conflicts, _invalid, _lines;

    /// <summary>Every line up to this one is committed (or was invalid).</summary>
    public long CommittedLines { get; private set; }

    public ImportSummary Summary => new(_lines, _created, _existing, _conflicts, _invalid, _problems.OrderBy(p => p.Line).ToList());

    public async Task AddAsync(string text, CancellationToken cancellationToken)
    {
        var number = ++_lines;
        if (string.IsNullOrWhiteSpace(text))
        {
            Problem(new ImportProblem(number, "invalid", "Empty line."));
            return;
        }

        var line = Parse(number, text, out var error);
        if (line is null)
        {
            Problem(new ImportProblem(number, "invalid", error!));
            return;
        }

        // A token twice in one batch: the first must be written before the second can be compared with it.
        if (!_batchTokens.Add(line.Token))
        {
            await FlushAsync(cancellationToken);
            _batchTokens.Add(line.Token);
        }

        _batch.Add(line);
        if (_batch.Count >= BatchSize)
        {
            await FlushAsync(cancellationToken);
        }
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_batch.Count == 0)
        {
            CommittedLines = _lines;
            return;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var npgsqlTransaction = (NpgsqlTransaction)transaction.GetDbTransaction();
        var created = await InsertAsync(connection, npgsqlTransaction, cancellationToken);
        var keep = new List<(Guid EndpointId, Line Line)>();
        var existing = await ExistingAsync(connection, npgsqlTransaction, _batch.Where(l => !created.ContainsKey(l.Token)).Select(l => l.Token).ToArray(), cancellationToken);
        foreach (var line in _batch)
        {
            if (created.TryGetValue(line.Token, out var id))
            {
                _created++;
                keep.Add((id, line));
                if (raiseEvents)
                {
                    db.Events.Add(EventOutbox.Create(EventTypes.EndpointCreated, ToEndpoint(id, line), app.ProjectId, now));
                }
            }
            else if (existing.TryGetValue(line.Token, out var stored))
            {
                var same = (!line.CustomUserData.IsSet || line.CustomUserData.Value == stored.CustomUserData)
                    && (line.Enabled is null || line.Enabled == stored.Enabled)
                    && (!line.UserId.IsSet || line.UserId.Value == stored.UserId);
                if (same)
                {
                    _existing++;
                    keep.Add((stored.Id, line));
                }
                else
                {
                    _conflicts++;
                    Problem(new ImportProblem(line.Number, "conflict",
                        $"Endpoint {stored.Id} already exists with the same token, but different attributes; left unchanged.", stored.Id));
                }
            }
        }

        await SubscribeAsync(connection, npgsqlTransaction, keep, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        _batch.Clear();
        _batchTokens.Clear();
        CommittedLines = _lines;
    }

    private void Problem(ImportProblem problem)
    {
        if (problem.Kind == "invalid")
        {
            _invalid++;
        }

        if (_problems.Count < MaxProblems)
        {
            _problems.Add(problem);
        }
    }

    private Line? Parse(long number, string text, out string? error)
    {
        error = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException)
        {
            error = "Not a JSON object.";
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "Not a JSON object.";
                return null;
            }

            var v = new Validation();
            string? token = null;
            Optional<string> customUserData = default, userId = default;
            bool? enabled = null;
            var topics = Array.Empty<string>();
            foreach (var property in root.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "token" when property.Value.ValueKind == JsonValueKind.String:
                        token = property.Value.GetString();
                        break;
                    case "customUserData" when property.Value.ValueKind is JsonValueKind.String or JsonValueKind.Null:
                        customUserData = new Optional<string>(true, property.Value.GetString());
                        break;
                    case "userId" when property.Value.ValueKind is JsonValueKind.String or JsonValueKind.Null:
                        userId = new Optional<string>(true, property.Value.GetString());
                        break;
                    case "enabled" when property.Value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                        enabled = property.Value.GetBoolean();
                        break;
                    case "topics" when property.Value.ValueKind == JsonValueKind.Array:
                        topics = property.Value.EnumerateArray().Select(t => t.ValueKind == JsonValueKind.String ? t.GetString()! : "").Distinct().ToArray();
                        if (topics.Any(t => !TopicsEndpoints.IsValidName(t)) || topics.Length > 100)
                        {
                            v.Add("topics", "Up to 100 topic names of 1 to 256 characters of A-Z, a-z, 0-9, '_' and '-'.");
                        }

                        break;
                    case "id" or "createdAt" or "updatedAt":
                        break; // written by export; the registry assigns its own
                    default:
                        v.Add(property.Name, "Unknown field, or not of its type (token, customUserData, userId: strings; enabled: boolean; topics: array of names).");
                        break;
                }
            }

            var normalized = EndpointsEndpoints.CheckToken(app.Platform, token, v);
            EndpointsEndpoints.CheckAttributes(customUserData, userId, v);
            if (!v.IsValid)
            {
                error = string.Join(" ", v.ToDetails().Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"));
                return null;
            }

            return new Line(number, normalized, customUserData, enabled, userId, topics);
        }
    }

    private PlatformEndpoint ToEndpoint(Guid id, Line line) => new()
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
    private async Task<Dictionary<string, Guid>> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var endpoints = _batch.Select(l => ToEndpoint(Guid.CreateVersion7(), l)).ToList();
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
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", endpoints.Select(e => e.Id).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("tokens", endpoints.Select(e => e.Token).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<bool[]>("enabled", endpoints.Select(e => e.Enabled).ToArray()));
        command.Parameters.Add(new NpgsqlParameter("data", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = endpoints.Select(e => e.CustomUserData).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("users", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = endpoints.Select(e => e.UserId).ToArray() });
        var created = new Dictionary<string, Guid>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            created[reader.GetString(0)] = reader.GetGuid(1);
        }

        return created;
    }

    private sealed record Stored(Guid Id, string? CustomUserData, bool Enabled, string? UserId);

    private async Task<Dictionary<string, Stored>> ExistingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string[] tokens, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, Stored>(StringComparer.Ordinal);
        if (tokens.Length == 0)
        {
            return found;
        }

        await using var command = new NpgsqlCommand(
            "SELECT token, id, custom_user_data, enabled, user_id FROM endpoints WHERE application_id = @a AND token = ANY(@tokens)", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid>("a", app.Id));
        command.Parameters.Add(new NpgsqlParameter<string[]>("tokens", tokens));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found[reader.GetString(0)] = new Stored(reader.GetGuid(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetBoolean(3),
                reader.IsDBNull(4) ? null : reader.GetString(4));
        }

        return found;
    }

    /// <summary>Creates the batch's topics when absent and subscribes its created and kept endpoints (idempotent).</summary>
    private async Task SubscribeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<(Guid EndpointId, Line Line)> keep, CancellationToken cancellationToken)
    {
        var pairs = keep.SelectMany(k => k.Line.Topics.Select(t => (k.EndpointId, Topic: t))).ToList();
        if (pairs.Count == 0)
        {
            return;
        }

        await using (var topics = new NpgsqlCommand("""
            INSERT INTO topics (id, project_id, name, created_at)
            SELECT gen_random_uuid(), @p, n, @now FROM unnest(@names) AS n
            ON CONFLICT (project_id, name) DO NOTHING
            """, connection, transaction))
        {
            topics.Parameters.Add(new NpgsqlParameter<Guid>("p", app.ProjectId));
            topics.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
            topics.Parameters.Add(new NpgsqlParameter<string[]>("names", pairs.Select(p => p.Topic).Distinct().ToArray()));
            await topics.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var subscribe = new NpgsqlCommand("""
            INSERT INTO topic_subscriptions (topic_id, endpoint_id, created_at)
            SELECT t.id, u.endpoint_id, @now FROM unnest(@endpoints, @names) AS u(endpoint_id, name)
            JOIN topics t ON t.project_id = @p AND t.name = u.name
            ON CONFLICT DO NOTHING
            """, connection, transaction);
        subscribe.Parameters.Add(new NpgsqlParameter<Guid>("p", app.ProjectId));
        subscribe.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        subscribe.Parameters.Add(new NpgsqlParameter<Guid[]>("endpoints", pairs.Select(p => p.EndpointId).ToArray()));
        subscribe.Parameters.Add(new NpgsqlParameter<string[]>("names", pairs.Select(p => p.Topic).ToArray()));
        await subscribe.ExecuteNonQueryAsync(cancellationToken);
    }
}
