using Npgsql;
using NpgsqlTypes;
using PushGateway.Data;
using PushGateway.Events;
using PushGateway.Messages;

namespace PushGateway.Delivery;

/// <summary>
/// Records results in one short transaction per group, one small method per SQL step: the delivery rows (only while
/// this worker still holds their lease), then the endpoint disables (with the 410-timestamp rule, and only if the
/// token is still the one that failed), the <c>deliveryFailure</c> events, the application disables (holding their
/// due deliveries), and the events they raise. The text in results was cleaned by <see cref="ProviderText"/>.
/// </summary>
internal sealed class ResultStore(WorkerDatabase database, EventSignal eventSignal)
{
    private readonly NpgsqlDataSource dataSource = database.DataSource;

    /// <summary>
    /// A group's results, matched to their rows by primary key and guarded by the lease (owner and the attempt the
    /// claim counted): a result that comes after the lease passed to another worker changes nothing. A result of a
    /// provider attempt (last_at set) or with a reason of its own replaces the receipt's provider fields, so a
    /// receipt always describes the attempt it shows; a result without either (given back, held before sending)
    /// keeps them. (No <c>state = 'pending'</c> test: only pending rows carry a lease owner, and that condition would
    /// let the planner walk the queue's partial index instead of looking each row up by its key. And the lease test
    /// as a CASE: written as <c>d.lease_owner = @owner</c>, statistics from a time when every lease owner was null made
    /// the planner take it for a one-row filter and walk the whole primary key for it in every group, seconds each
    /// during a large fan-out; a CASE is a join filter it cannot estimate from those statistics, so each group stays
    /// a keyed lookup per result.)
    /// </summary>
    internal const string WriteResultsSql = """
        UPDATE deliveries d
        SET state = u.state, attempts = u.attempts, next_attempt_at = u.next_at, last_attempt_at = coalesce(u.last_at, d.last_attempt_at),
            completed_at = u.completed_at,
            provider_status = CASE WHEN u.last_at IS NOT NULL OR u.reason IS NOT NULL THEN u.status ELSE d.provider_status END,
            provider_reason = CASE WHEN u.last_at IS NOT NULL OR u.reason IS NOT NULL THEN u.reason ELSE d.provider_reason END,
            provider_id = CASE WHEN u.last_at IS NOT NULL THEN u.pid ELSE d.provider_id END,
            provider_unique_id = CASE WHEN u.last_at IS NOT NULL THEN u.uid ELSE d.provider_unique_id END,
            leased_until = NULL, lease_owner = NULL
        FROM unnest(@ids, @claimed, @states, @attempts, @next, @last, @completed, @statuses, @reasons, @pids, @uids)
             AS u(id, claimed, state, attempts, next_at, last_at, completed_at, status, reason, pid, uid)
        WHERE d.id = u.id AND CASE WHEN d.lease_owner = @owner THEN d.attempts = u.claimed ELSE false END
        RETURNING d.id
        """;

    public async Task<WriteSummary> WriteAsync(IReadOnlyList<DeliveryResult> results, Guid owner, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var written = await UpdateDeliveriesAsync(connection, transaction, results, owner, cancellationToken);
        var mine = results.Where(r => written.Contains(r.Delivery.Id)).ToList();
        var summary = new WriteSummary(mine);
        var events = new List<OutboxEvent>();

        await LockEventEndpointsAsync(connection, transaction, mine, cancellationToken);
        var disabled = await DisableEndpointsAsync(connection, transaction, mine, now, summary, events, cancellationToken);
        await AddFailureEventsAsync(connection, transaction, mine, disabled, now, events, cancellationToken);
        await DisableApplicationsAsync(connection, transaction, mine, now, summary, events, cancellationToken);
        if (events.Count > 0)
        {
            await InsertEventsAsync(connection, transaction, events, cancellationToken);
        }

        // Last, so that the counter rows (shared with other writers of the same messages) are locked only briefly.
        await MessageCounters.AddAsync(connection, transaction,
            MessageCounters.FromChanges(mine.Select(r => (r.Delivery.MessageId, r.State, r.Attempts, r.CompletedAt))), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (events.Count > 0)
        {
            eventSignal.Notify();
        }

        return summary;
    }

    private static async Task<HashSet<long>> UpdateDeliveriesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<DeliveryResult> results,
        Guid owner, CancellationToken cancellationToken)
    {
        var written = new HashSet<long>();
        await using var update = new NpgsqlCommand(WriteResultsSql, connection, transaction);
        update.Parameters.Add(new NpgsqlParameter<long[]>("ids", results.Select(r => r.Delivery.Id).ToArray()));
        update.Parameters.Add(new NpgsqlParameter<int[]>("claimed", results.Select(r => r.Delivery.Attempts).ToArray()));
        update.Parameters.Add(new NpgsqlParameter<string[]>("states", results.Select(r => r.State).ToArray()));
        update.Parameters.Add(new NpgsqlParameter<int[]>("attempts", results.Select(r => r.Attempts).ToArray()));
        update.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("next", results.Select(r => r.NextAttemptAt).ToArray()));
        update.Parameters.Add(new NpgsqlParameter<DateTimeOffset?[]>("last", results.Select(r => r.LastAttemptAt).ToArray()));
        update.Parameters.Add(new NpgsqlParameter<DateTimeOffset?[]>("completed", results.Select(r => r.CompletedAt).ToArray()));
        update.Parameters.Add(new NpgsqlParameter<int?[]>("statuses", results.Select(r => r.ProviderStatus).ToArray()));
        update.Parameters.Add(new NpgsqlParameter("reasons", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = results.Select(r => ProviderText.Clean(r.ProviderReason, ProviderText.MaxReason)).ToArray() });
        update.Parameters.Add(new NpgsqlParameter("pids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = results.Select(r => ProviderText.Clean(r.ProviderId, ProviderText.MaxId)).ToArray() });
        update.Parameters.Add(new NpgsqlParameter("uids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = results.Select(r => ProviderText.Clean(r.ProviderUniqueId, ProviderText.MaxId)).ToArray() });
        update.Parameters.Add(new NpgsqlParameter<Guid>("owner", owner));
        await using var reader = await update.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            written.Add(reader.GetInt64(0));
        }

        return written;
    }

    /// <summary>
    /// Every endpoint these results raise an event for is locked first, in id order, like every other change to an
    /// endpoint: its events then follow (in sequence and in commit order) any change being committed to it right now,
    /// and their snapshots show that change. One lock order also keeps two writers that disable the same endpoints
    /// from deadlocking.
    /// </summary>
    private static async Task LockEventEndpointsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<DeliveryResult> mine, CancellationToken cancellationToken)
    {
        var ids = mine.Where(r => r.DisableEndpoint is not null || r.State == DeliveryStates.Failed)
            .Select(r => r.Delivery.EndpointId).Distinct().Order().ToArray();
        if (ids.Length == 0)
        {
            return;
        }

        await using var command = new NpgsqlCommand("SELECT id FROM endpoints WHERE id = ANY(@ids) ORDER BY id FOR NO KEY UPDATE", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", ids));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Once per endpoint, only if it still carries the token that failed, and for a 410 only if the app has not
    /// confirmed the token again after the provider saw it die. An uninstall (410, UNREGISTERED) also ends the
    /// device's login: iOS keeps the token across a reinstall, and the next user of the app must not get the previous
    /// one's pushes. (A late 410, ignored by the timestamp rule, changes nothing, the binding included.)
    /// </summary>
    private static async Task<Dictionary<Guid, PlatformEndpoint>> DisableEndpointsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        List<DeliveryResult> mine, DateTimeOffset now, WriteSummary summary, List<OutboxEvent> events, CancellationToken cancellationToken)
    {
        var disabled = new Dictionary<Guid, PlatformEndpoint>();
        foreach (var disable in mine.Where(r => r.DisableEndpoint is not null).Select(r => r.DisableEndpoint!).DistinctBy(d => d.EndpointId))
        {
            await using var command = new NpgsqlCommand("""
                UPDATE endpoints SET enabled = false, disabled_at = @now, disabled_reason = @reason, updated_at = @now,
                    user_id = CASE WHEN @unbind THEN NULL ELSE user_id END
                WHERE id = @id AND enabled AND token = @token AND (@ts::timestamptz IS NULL OR token_updated_at <= @ts)
                RETURNING id, project_id, application_id, token, enabled, custom_user_data, user_id, created_at, updated_at,
                          token_updated_at, disabled_at, disabled_reason
                """, connection, transaction);
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
            command.Parameters.Add(new NpgsqlParameter<string>("reason", ProviderText.Clean(disable.Reason, ProviderText.MaxReason)!));
            command.Parameters.Add(new NpgsqlParameter<Guid>("id", disable.EndpointId));
            command.Parameters.Add(new NpgsqlParameter<string>("token", disable.TokenSent));
            command.Parameters.Add(new NpgsqlParameter("ts", NpgsqlDbType.TimestampTz) { Value = (object?)disable.Timestamp ?? DBNull.Value });
            command.Parameters.Add(new NpgsqlParameter<bool>("unbind", disable.Unbind));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                var endpoint = ReadEndpoint(reader);
                disabled[endpoint.Id] = endpoint;
                events.Add(EventOutbox.Create(EventTypes.EndpointUpdated, endpoint, endpoint.ProjectId, now));
                summary.EndpointsDisabled.Add((endpoint.Id, disable.TokenSent, disable.Reason));
            }
            else
            {
                summary.EndpointsKept.Add((disable.EndpointId, disable.TokenSent, disable.Reason));
            }
        }

        return disabled;
    }

    /// <summary><c>deliveryFailure</c> for every delivery that failed for good, with its endpoint as it is now.</summary>
    private static async Task AddFailureEventsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<DeliveryResult> mine,
        Dictionary<Guid, PlatformEndpoint> disabled, DateTimeOffset now, List<OutboxEvent> events, CancellationToken cancellationToken)
    {
        var failed = mine.Where(r => r.State == DeliveryStates.Failed).ToList();
        if (failed.Count == 0)
        {
            return;
        }

        var snapshots = new Dictionary<Guid, PlatformEndpoint>(disabled);
        var missing = failed.Select(r => r.Delivery.EndpointId).Where(id => !snapshots.ContainsKey(id)).Distinct().ToArray();
        if (missing.Length > 0)
        {
            await using var command = new NpgsqlCommand("""
                SELECT id, project_id, application_id, token, enabled, custom_user_data, user_id, created_at, updated_at,
                       token_updated_at, disabled_at, disabled_reason
                FROM endpoints WHERE id = ANY(@ids)
                """, connection, transaction);
            command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", missing));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var endpoint = ReadEndpoint(reader);
                snapshots[endpoint.Id] = endpoint;
            }
        }

        foreach (var r in failed)
        {
            if (snapshots.TryGetValue(r.Delivery.EndpointId, out var endpoint))
            {
                events.Add(EventOutbox.Create(EventTypes.DeliveryFailure, endpoint, endpoint.ProjectId, now,
                    new DeliveryFailureInfo(r.ProviderReason ?? "failed", r.ProviderStatus, r.Delivery.MessageId)));
            }
        }
    }

    /// <summary>
    /// Only if the credentials that failed are still the current ones (not rotated since). Whether or not this write
    /// disabled it, the application's due deliveries wait for the fix; rows other workers hold come back with the same
    /// credential failure and are held then.
    /// </summary>
    private static async Task DisableApplicationsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<DeliveryResult> mine,
        DateTimeOffset now, WriteSummary summary, List<OutboxEvent> events, CancellationToken cancellationToken)
    {
        // One per application; a probe's verdict before the guard's "probably" of the same trip.
        var disables = mine.Where(r => r.DisableApplication is not null).Select(r => r.DisableApplication!)
            .OrderBy(d => d.Reason.StartsWith("misconfiguration: probably", StringComparison.Ordinal) ? 1 : 0)
            .DistinctBy(d => d.ApplicationId);
        foreach (var disable in disables)
        {
            // A probe's verdict ("confirmed", or refused too) replaces the guard's "probably", which other answers of
            // the same trip may have written first; the application was disabled once, so no second event.
            await using var command = new NpgsqlCommand("""
                UPDATE applications a SET enabled = false, disabled_at = CASE WHEN o.enabled THEN @now ELSE a.disabled_at END,
                    disabled_reason = @reason, updated_at = @now
                FROM (SELECT enabled, disabled_reason FROM applications WHERE id = @id FOR UPDATE) o
                WHERE a.id = @id AND a.credentials_version = @version
                  AND (o.enabled OR (o.disabled_reason LIKE 'misconfiguration: probably%' AND @reason NOT LIKE 'misconfiguration: probably%' AND @reason LIKE 'misconfiguration:%'))
                RETURNING o.enabled
                """, connection, transaction);
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
            command.Parameters.Add(new NpgsqlParameter<string>("reason", ProviderText.Clean(disable.Reason, ProviderText.MaxReason)!));
            command.Parameters.Add(new NpgsqlParameter<Guid>("id", disable.ApplicationId));
            command.Parameters.Add(new NpgsqlParameter<int>("version", disable.CredentialsVersion));
            if (await command.ExecuteScalarAsync(cancellationToken) is true)
            {
                summary.ApplicationsDisabled.Add((disable.ApplicationId, disable.Reason));
                if (disable.RestoreEndpointsSince is not null)
                {
                    summary.GuardsTripped.Add(disable.ApplicationId);
                    events.Add(await ApplicationEventAsync(connection, transaction, disable.ApplicationId, now, cancellationToken));
                }
            }

            if (disable.RestoreEndpointsSince is { } since)
            {
                await RestoreGuardedEndpointsAsync(connection, transaction, disable.ApplicationId, since, now, summary, events, cancellationToken);
            }

            await using var hold = new NpgsqlCommand("""
                UPDATE deliveries SET state = 'held'
                WHERE id IN (SELECT d.id FROM deliveries d JOIN applications a ON a.id = d.application_id
                             WHERE a.id = @id AND NOT a.enabled AND d.state = 'pending' AND d.next_attempt_at <= @now
                             FOR UPDATE OF d SKIP LOCKED)
                """, connection, transaction);
            hold.Parameters.Add(new NpgsqlParameter<Guid>("id", disable.ApplicationId));
            hold.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
            await hold.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>
    /// The misconfiguration guard's restore: endpoints of the application that answers it now blames on the
    /// application disabled since <paramref name="since"/> are enabled again (each with an <c>endpointUpdated</c>
    /// event). Runs with the trip, and again from the sweeper for answers recorded after it (other writers, replicas).
    /// </summary>
    internal static async Task RestoreGuardedEndpointsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid applicationId, DateTimeOffset since,
        DateTimeOffset now, WriteSummary? summary, List<OutboxEvent> events, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            UPDATE endpoints SET enabled = true, disabled_at = NULL, disabled_reason = NULL, updated_at = @now
            WHERE application_id = @app AND NOT enabled AND disabled_at >= @since
              AND disabled_reason LIKE ANY(@patterns)
            RETURNING id, project_id, application_id, token, enabled, custom_user_data, user_id, created_at, updated_at,
                      token_updated_at, disabled_at, disabled_reason
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid>("app", applicationId));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("since", since));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        command.Parameters.Add(new NpgsqlParameter<string[]>("patterns", MisconfigurationGuard.SuspectReasonPrefixes.Select(p => p + "%").ToArray()));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var endpoint = ReadEndpoint(reader);
            events.Add(EventOutbox.Create(EventTypes.EndpointUpdated, endpoint, endpoint.ProjectId, now));
            summary?.EndpointsRestored.Add(endpoint.Id);
        }
    }

    /// <summary>
    /// The restore again for applications the guard disabled lately, for blamed answers that were recorded after the
    /// trip (by another writer or replica). Returns the endpoints restored.
    /// </summary>
    public async Task<int> RestoreAfterTripsAsync(DateTimeOffset now, TimeSpan window, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var tripped = new List<(Guid Id, DateTimeOffset DisabledAt)>();
        await using (var command = new NpgsqlCommand("""
            SELECT id, disabled_at FROM applications
            WHERE NOT enabled AND disabled_reason LIKE 'misconfiguration:%' AND disabled_at > @recent
            """, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("recent", now - window));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                tripped.Add((reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1)));
            }
        }

        var events = new List<OutboxEvent>();
        foreach (var (id, disabledAt) in tripped)
        {
            await RestoreGuardedEndpointsAsync(connection, transaction, id, disabledAt - window, now, null, events, cancellationToken);
        }

        if (events.Count > 0)
        {
            await InsertEventsAsync(connection, transaction, events, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        if (events.Count > 0)
        {
            eventSignal.Notify();
        }

        return events.Count;
    }

    /// <summary>An <c>applicationDisabled</c> event with the application as it is now.</summary>
    private static async Task<OutboxEvent> ApplicationEventAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid applicationId, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT id, project_id, name, platform, environment, enabled, disabled_at, disabled_reason FROM applications WHERE id = @id
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid>("id", applicationId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var snapshot = new ApplicationSnapshot(reader.GetGuid(0), reader.GetString(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.GetBoolean(5), reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6), reader.IsDBNull(7) ? null : reader.GetString(7));
        return EventOutbox.CreateForApplication(EventTypes.ApplicationDisabled, snapshot, reader.GetGuid(1), now);
    }

    internal static async Task InsertEventsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<OutboxEvent> events, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO events (id, project_id, application_id, endpoint_id, type, payload, created_at, state, attempts, next_attempt_at)
            SELECT u.id, u.project_id, u.application_id, u.endpoint_id, u.type, u.payload::json, u.created_at, 'pending', 0, u.created_at
            FROM unnest(@ids, @projects, @applications, @endpoints, @types, @payloads, @created) AS u(id, project_id, application_id, endpoint_id, type, payload, created_at)
            WHERE EXISTS (SELECT 1 FROM applications a WHERE a.id = u.application_id)
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", events.Select(e => e.Id).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("projects", events.Select(e => e.ProjectId).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("applications", events.Select(e => e.ApplicationId).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<Guid?[]>("endpoints", events.Select(e => e.EndpointId).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("types", events.Select(e => e.Type).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("payloads", events.Select(e => e.Payload).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("created", events.Select(e => e.CreatedAt).ToArray()));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static PlatformEndpoint ReadEndpoint(NpgsqlDataReader reader) => new()
    {
        Id = reader.GetGuid(0),
        ProjectId = reader.GetGuid(1),
        ApplicationId = reader.GetGuid(2),
        Token = reader.GetString(3),
        Enabled = reader.GetBoolean(4),
        CustomUserData = reader.IsDBNull(5) ? null : reader.GetString(5),
        UserId = reader.IsDBNull(6) ? null : reader.GetString(6),
        CreatedAt = reader.GetFieldValue<DateTimeOffset>(7),
        UpdatedAt = reader.GetFieldValue<DateTimeOffset>(8),
        TokenUpdatedAt = reader.GetFieldValue<DateTimeOffset>(9),
        DisabledAt = reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10),
        DisabledReason = reader.IsDBNull(11) ? null : reader.GetString(11),
    };
}
