using System.Collections.Concurrent;
using Npgsql;
using NpgsqlTypes;
using PushGateway.Data;
using PushGateway.Events;
using PushGateway.Hosting;

namespace PushGateway.Endpoints;

/// <summary>What a registration needs to know of its application; neither ever changes for an application id.</summary>
internal sealed record ApplicationKey(Guid Id, Guid ProjectId, string Platform);

/// <summary>
/// The registry's hot paths in plain Npgsql, one statement each (no EF unit of work, no explicit transaction): reading
/// one endpoint, and the two commonest registrations, "this device is already registered and nothing changed" and "a
/// new device". Everything else (a changed token or user, a disabled endpoint, a stale endpointId, races) goes through
/// <see cref="EndpointRegistry"/>, which this never contradicts: a registration it cannot finish alone changes nothing.
/// </summary>
internal sealed class EndpointStore(NpgsqlDataSource dataSource, EventSignal eventSignal)
{
    private const string Columns = "id, project_id, application_id, token, enabled, custom_user_data, user_id, created_at, updated_at, token_updated_at, disabled_at, disabled_reason";

    /// <summary>The registration function's call: its two flags around the endpoint's <see cref="Columns"/>, in that order.</summary>
    private static readonly string RegisterSql = $"""
        SELECT r_inserted, {string.Join(", ", Columns.Split(", ").Select(c => $"(r_endpoint).{c}"))}, r_event_pending
        FROM pushgateway_register(@a, @p, @t, @now, @eid, @set_user, @user, @set_data, @data, @id, @event_id, @event_type, @payload::json)
        """;

    private const int MaxCachedApplications = 100_000;

    private readonly ConcurrentDictionary<Guid, ApplicationKey> _applications = new();

    /// <summary>
    /// The application's project and platform, remembered after the first look (both are fixed for an id, and ids are
    /// never reused). Whether it still exists is checked by the statements that use it.
    /// </summary>
    public async Task<ApplicationKey?> FindApplicationAsync(Guid projectId, Guid appId, CancellationToken cancellationToken)
    {
        if (!_applications.TryGetValue(appId, out var known))
        {
            await using var command = dataSource.CreateCommand("SELECT project_id, platform FROM applications WHERE id = @a");
            command.Parameters.Add(new NpgsqlParameter<Guid>("a", appId));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            known = new ApplicationKey(appId, reader.GetGuid(0), reader.GetString(1));
            if (_applications.Count >= MaxCachedApplications)
            {
                _applications.Clear();
            }

            _applications[appId] = known;
        }

        return known.ProjectId == projectId ? known : null;
    }

    public async Task<PlatformEndpoint?> FindAsync(Guid projectId, Guid endpointId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM endpoints WHERE id = @id AND project_id = @p");
        command.Parameters.Add(new NpgsqlParameter<Guid>("id", endpointId));
        command.Parameters.Add(new NpgsqlParameter<Guid>("p", projectId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader, 0) : null;
    }

    /// <summary>
    /// One call of the registration function (migration RegistrationFunction): if the application's endpoint with this
    /// token (and this id, when given) is enabled and already carries the supplied user and custom data, confirm the
    /// token (<c>tokenUpdatedAt</c>) → <c>unchanged</c>; else, without an endpointId, insert the new endpoint with its
    /// <c>endpointCreated</c> event → <c>created</c> (written skipped when the application has no webhook, as the events
    /// trigger would, which then does not run). Null when neither applies (nothing was changed): the caller goes the
    /// general way. A function, not one statement with both parts: a statement's whole plan is started on every call,
    /// the insert parts too, which confirmations (the commonest registration) paid for without using.
    /// </summary>
    public async Task<RegistrationResult?> TryRegisterAsync(
        ApplicationKey app, string token, Guid? endpointId, Optional<string> userId, Optional<string> customUserData, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var fresh = new PlatformEndpoint
        {
            Id = Guid.CreateVersion7(),
            ProjectId = app.ProjectId,
            ApplicationId = app.Id,
            Token = token,
            UserId = userId.Value,
            CustomUserData = customUserData.Value,
            CreatedAt = now,
            UpdatedAt = now,
            TokenUpdatedAt = now,
        };
        var created = EventOutbox.Create(EventTypes.EndpointCreated, fresh, app.ProjectId, now);
        await using var command = dataSource.CreateCommand(RegisterSql);
        var p = command.Parameters;
        p.Add(new NpgsqlParameter<Guid>("a", app.Id));
        p.Add(new NpgsqlParameter<Guid>("p", app.ProjectId));
        p.Add(new NpgsqlParameter<string>("t", token));
        p.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        p.Add(new NpgsqlParameter("eid", NpgsqlDbType.Uuid) { Value = endpointId is { } given ? given : DBNull.Value });
        p.Add(new NpgsqlParameter<bool>("set_user", userId.IsSet));
        p.Add(new NpgsqlParameter("user", NpgsqlDbType.Text) { Value = (object?)userId.Value ?? DBNull.Value });
        p.Add(new NpgsqlParameter<bool>("set_data", customUserData.IsSet));
        p.Add(new NpgsqlParameter("data", NpgsqlDbType.Text) { Value = (object?)customUserData.Value ?? DBNull.Value });
        p.Add(new NpgsqlParameter<Guid>("id", fresh.Id));
        p.Add(new NpgsqlParameter<Guid>("event_id", created.Id));
        p.Add(new NpgsqlParameter<string>("event_type", created.Type));
        p.Add(new NpgsqlParameter<string>("payload", created.Payload));
        bool inserted, eventPending;
        PlatformEndpoint endpoint;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            inserted = reader.GetBoolean(0);
            endpoint = Read(reader, 1);
            eventPending = reader.GetBoolean(13);
        }

        if (eventPending)
        {
            // The statement (and its endpointCreated event) is committed once its reader is done. An application
            // without a webhook has the event written skipped by the function: nothing to wake for.
            eventSignal.Notify();
        }

        return inserted
            ? new RegistrationResult(RegistrationOutcomes.Created, true, endpoint)
            : new RegistrationResult(RegistrationOutcomes.Unchanged, false, endpoint);
    }

    private static PlatformEndpoint Read(NpgsqlDataReader reader, int at) => new()
    {
        Id = reader.GetGuid(at),
        ProjectId = reader.GetGuid(at + 1),
        ApplicationId = reader.GetGuid(at + 2),
        Token = reader.GetString(at + 3),
        Enabled = reader.GetBoolean(at + 4),
        CustomUserData = reader.IsDBNull(at + 5) ? null : reader.GetString(at + 5),
        UserId = reader.IsDBNull(at + 6) ? null : reader.GetString(at + 6),
        CreatedAt = reader.GetFieldValue<DateTimeOffset>(at + 7),
        UpdatedAt = reader.GetFieldValue<DateTimeOffset>(at + 8),
        TokenUpdatedAt = reader.GetFieldValue<DateTimeOffset>(at + 9),
        DisabledAt = reader.IsDBNull(at + 10) ? null : reader.GetFieldValue<DateTimeOffset>(at + 10),
        DisabledReason = reader.IsDBNull(at + 11) ? null : reader.GetString(at + 11),
    };
}
