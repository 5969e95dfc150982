using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;
using PushGateway.Data;
using PushGateway.Events;
using PushGateway.Hosting;

namespace PushGateway.Endpoints;

internal static class RegistrationOutcomes
{
    public const string Created = "created";
    public const string Recreated = "recreated";
    public const string Updated = "updated";
    public const string Unchanged = "unchanged";
}

internal sealed record RegistrationResult(string Outcome, bool Inserted, PlatformEndpoint Endpoint);

internal abstract record CreateResult
{
    public sealed record Created(PlatformEndpoint Endpoint) : CreateResult;
    public sealed record Existing(PlatformEndpoint Endpoint) : CreateResult;
    public sealed record Conflict(Guid ExistingId) : CreateResult;
}

/// <summary>
/// The endpoint registry's writes. Uniqueness of (application, token) is the database's job; every operation runs
/// in one transaction with its outbox events and is retried from the start when a concurrent writer took the
/// token first, so concurrent registrations converge on one endpoint.
/// </summary>
internal sealed class EndpointRegistry(PushGatewayDbContext db, TimeProvider time)
{
    private const int MaxAttempts = 5;

    /// <summary>SNS CreatePlatformEndpoint: new → created; same token and same supplied attributes → the existing one;
    /// same token, other supplied attributes → conflict.</summary>
    public async Task<CreateResult> CreateAsync(
        Application app, string token, Optional<string> customUserData, bool? enabled, Optional<string> userId, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();
            var existing = await db.Endpoints.AsNoTracking()
                .FirstOrDefaultAsync(e => e.ApplicationId == app.Id && e.Token == token, cancellationToken);
            if (existing is not null)
            {
                var same = (!customUserData.IsSet || customUserData.Value == existing.CustomUserData)
                    && (enabled is null || enabled == existing.Enabled)
                    && (!userId.IsSet || userId.Value == existing.UserId);
                return same ? new CreateResult.Existing(existing) : new CreateResult.Conflict(existing.Id);
            }

            var now = time.UtcNow();
            var endpoint = NewEndpoint(app, token, now);
            endpoint.CustomUserData = customUserData.Value;
            endpoint.UserId = userId.Value;
            if (enabled == false)
            {
                Disable(endpoint, "manual", now);
            }

            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (!await InsertIfAbsentAsync(endpoint, cancellationToken))
            {
                // Someone else created it between our read and our insert: answer as for an existing endpoint.
                await transaction.RollbackAsync(cancellationToken);
                if (attempt >= MaxAttempts)
                {
                    throw new InvalidOperationException("Endpoint creation did not converge.");
                }

                continue;
            }

            EventOutbox.Add(db, EventTypes.EndpointCreated, endpoint, now);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new CreateResult.Created(endpoint);
        }
    }

    /// <summary>The "register on every app launch" flow of the contract (section 3, registrations).</summary>
    public async Task<RegistrationResult> RegisterAsync(
        Application app, string token, Guid? endpointId, Optional<string> userId, Optional<string> customUserData, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            try
            {
                var result = await RegisterOnceAsync(app, token, endpointId, userId, customUserData, cancellationToken);
                if (result is null)
                {
                    await transaction.RollbackAsync(cancellationToken);
                }
                else
                {
                    await db.SaveChangesAsync(cancellationToken);
                    await transaction.CommitAsync(cancellationToken);
                    return result;
                }
            }
            catch (Exception ex) when (IsConcurrencyConflict(ex) && attempt < MaxAttempts)
            {
                await transaction.RollbackAsync(cancellationToken);
            }

            if (attempt >= MaxAttempts)
            {
                throw new InvalidOperationException("Registration did not converge.");
            }
        }
    }

    private async Task<RegistrationResult?> RegisterOnceAsync(
        Application app, string token, Guid? endpointId, Optional<string> userId, Optional<string> customUserData, CancellationToken cancellationToken)
    {
        var now = time.UtcNow();
        var given = endpointId is { } id ? await LockAsync(app.Id, id, cancellationToken) : null;
        var holder = given?.Token == token ? given : await LockByTokenAsync(app.Id, token, cancellationToken);

        PlatformEndpoint target;
        bool changed;
        string outcome;
        if (given is not null)
        {
            changed = false;
            if (holder is not null && holder.Id != given.Id)
            {
                // The app's stored endpoint is stale: the token it just got from the OS already lives in another
                // endpoint of this application. Keep that one, carry over what the stale one knew, drop the stale one.
                await MergeStaleAsync(given, holder, userId, customUserData, cancellationToken);
                db.Endpoints.Remove(given);
                EventOutbox.Add(db, EventTypes.EndpointDeleted, given, now);
                target = holder;
                changed = true;
            }
            else
            {
                target = given;
                if (given.Token != token)
                {
                    given.Token = token;
                    changed = true;
                }
            }

            changed |= Apply(target, userId, customUserData);
            outcome = changed ? RegistrationOutcomes.Updated : RegistrationOutcomes.Unchanged;
        }
        else if (holder is not null)
        {
            target = holder;
            changed = Apply(target, userId, customUserData);
            outcome = endpointId is not null ? RegistrationOutcomes.Recreated
                : changed ? RegistrationOutcomes.Updated : RegistrationOutcomes.Unchanged;
        }
        else
        {
            target = NewEndpoint(app, token, now);
            target.UserId = userId.Value;
            target.CustomUserData = customUserData.Value;
            if (!await InsertIfAbsentAsync(target, cancellationToken))
            {
                return null; // a concurrent registration inserted the token first: start over and find it
            }

            EventOutbox.Add(db, EventTypes.EndpointCreated, target, now);
            return new RegistrationResult(endpointId is null ? RegistrationOutcomes.Created : RegistrationOutcomes.Recreated, true, target);
        }

        // The app just got this token from the OS: it is confirmed as current now, changed or not.
        target.TokenUpdatedAt = now;
        if (changed)
        {
            target.UpdatedAt = now;
            EventOutbox.Add(db, EventTypes.EndpointUpdated, target, now);
        }

        return new RegistrationResult(outcome, false, target);
    }

    /// <summary>Enables the endpoint (a registration proves the token is current) and applies the supplied attributes.</summary>
    private static bool Apply(PlatformEndpoint endpoint, Optional<string> userId, Optional<string> customUserData)
    {
        var changed = false;
        if (!endpoint.Enabled)
        {
            Enable(endpoint);
            changed = true;
        }

        if (userId.IsSet && endpoint.UserId != userId.Value)
        {
            endpoint.UserId = userId.Value;
            changed = true;
        }

        if (customUserData.IsSet && endpoint.CustomUserData != customUserData.Value)
        {
            endpoint.CustomUserData = customUserData.Value;
            changed = true;
        }

        return changed;
    }

    private async Task MergeStaleAsync(PlatformEndpoint stale, PlatformEndpoint keep, Optional<string> userId, Optional<string> customUserData, CancellationToken cancellationToken)
    {
        if (!userId.IsSet && keep.UserId is null)
        {
            keep.UserId = stale.UserId;
        }

        if (!customUserData.IsSet && keep.CustomUserData is null)
        {
            keep.CustomUserData = stale.CustomUserData;
        }

        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO topic_subscriptions (topic_id, endpoint_id, created_at)
            SELECT topic_id, {keep.Id}, created_at FROM topic_subscriptions WHERE endpoint_id = {stale.Id}
            ON CONFLICT DO NOTHING
            """, cancellationToken);
    }

    public sealed record Patch(Optional<string> Token, bool? Enabled, Optional<string> CustomUserData, Optional<string> UserId);

    public abstract record PatchResult
    {
        public sealed record Updated(PlatformEndpoint Endpoint) : PatchResult;
        public sealed record NotFound : PatchResult;
        public sealed record TokenTaken(Guid HolderId) : PatchResult;
    }

    /// <summary>SNS SetEndpointAttributes. The token, when given, is already validated and normalised.</summary>
    public async Task<PatchResult> PatchAsync(Guid projectId, Guid endpointId, Patch patch, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var endpoint = (await db.Endpoints
            .FromSql($"SELECT * FROM endpoints WHERE id = {endpointId} AND project_id = {projectId} FOR UPDATE")
            .ToListAsync(cancellationToken)).FirstOrDefault();
        if (endpoint is null)
        {
            return new PatchResult.NotFound();
        }

        var now = time.UtcNow();
        var changed = false;
        if (patch.Token is { IsSet: true, Value: { } token } && token != endpoint.Token)
        {
            var holder = await db.Endpoints.AsNoTracking()
                .Where(e => e.ApplicationId == endpoint.ApplicationId && e.Token == token)
                .Select(e => (Guid?)e.Id).FirstOrDefaultAsync(cancellationToken);
            if (holder is { } holderId)
            {
                return new PatchResult.TokenTaken(holderId);
            }

            endpoint.Token = token;
            endpoint.TokenUpdatedAt = now;
            changed = true;
        }

        if (patch.Enabled is { } enabled && enabled != endpoint.Enabled)
        {
            if (enabled)
            {
                Enable(endpoint);
            }
            else
            {
                Disable(endpoint, "manual", now);
            }

            changed = true;
        }

        if (patch.CustomUserData.IsSet && patch.CustomUserData.Value != endpoint.CustomUserData)
        {
            endpoint.CustomUserData = patch.CustomUserData.Value;
            changed = true;
        }

        if (patch.UserId.IsSet && patch.UserId.Value != endpoint.UserId)
        {
            endpoint.UserId = patch.UserId.Value;
            changed = true;
        }

        if (changed)
        {
            endpoint.UpdatedAt = now;
            EventOutbox.Add(db, EventTypes.EndpointUpdated, endpoint, now);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException ex) when (IsUniqueViolation(ex))
            {
                await transaction.RollbackAsync(cancellationToken);
                var holderId = await db.Endpoints.AsNoTracking()
                    .Where(e => e.ApplicationId == endpoint.ApplicationId && e.Token == patch.Token.Value)
                    .Select(e => e.Id).FirstOrDefaultAsync(cancellationToken);
                return new PatchResult.TokenTaken(holderId);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return new PatchResult.Updated(endpoint);
    }

    public async Task<bool> DeleteAsync(Guid projectId, Guid endpointId, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var endpoint = (await db.Endpoints
            .FromSql($"SELECT * FROM endpoints WHERE id = {endpointId} AND project_id = {projectId} FOR UPDATE")
            .ToListAsync(cancellationToken)).FirstOrDefault();
        if (endpoint is null)
        {
            return false;
        }

        db.Endpoints.Remove(endpoint);
        EventOutbox.Add(db, EventTypes.EndpointDeleted, endpoint, time.UtcNow());
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Unbinds endpoints from a user (one, or all when <paramref name="endpointId"/> is null). Returns how many.</summary>
    public async Task<int> UnbindUserAsync(Guid projectId, string userId, Guid? endpointId, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var endpoints = endpointId is { } id
            ? await db.Endpoints.FromSql($"SELECT * FROM endpoints WHERE project_id = {projectId} AND user_id = {userId} AND id = {id} FOR UPDATE").ToListAsync(cancellationToken)
            : await db.Endpoints.FromSql($"SELECT * FROM endpoints WHERE project_id = {projectId} AND user_id = {userId} FOR UPDATE").ToListAsync(cancellationToken);
        var now = time.UtcNow();
        foreach (var endpoint in endpoints)
        {
            endpoint.UserId = null;
            endpoint.UpdatedAt = now;
            EventOutbox.Add(db, EventTypes.EndpointUpdated, endpoint, now);
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return endpoints.Count;
    }

    internal static void Enable(PlatformEndpoint endpoint)
    {
        endpoint.Enabled = true;
        endpoint.DisabledAt = null;
        endpoint.DisabledReason = null;
    }

    internal static void Disable(PlatformEndpoint endpoint, string reason, DateTimeOffset now)
    {
        endpoint.Enabled = false;
        endpoint.DisabledAt = now;
        endpoint.DisabledReason = reason;
    }

    private static PlatformEndpoint NewEndpoint(Application app, string token, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(),
        ProjectId = app.ProjectId,
        ApplicationId = app.Id,
        Token = token,
        Enabled = true,
        CreatedAt = now,
        UpdatedAt = now,
        TokenUpdatedAt = now,
    };

    private async Task<PlatformEndpoint?> LockAsync(Guid applicationId, Guid endpointId, CancellationToken cancellationToken) =>
        (await db.Endpoints
            .FromSql($"SELECT * FROM endpoints WHERE id = {endpointId} AND application_id = {applicationId} FOR UPDATE")
            .ToListAsync(cancellationToken)).FirstOrDefault();

    private async Task<PlatformEndpoint?> LockByTokenAsync(Guid applicationId, string token, CancellationToken cancellationToken) =>
        (await db.Endpoints
            .FromSql($"SELECT * FROM endpoints WHERE application_id = {applicationId} AND token = {token} FOR UPDATE")
            .ToListAsync(cancellationToken)).FirstOrDefault();

    /// <summary>INSERT … ON CONFLICT DO NOTHING: false when another transaction holds the (application, token) pair.</summary>
    private async Task<bool> InsertIfAbsentAsync(PlatformEndpoint e, CancellationToken cancellationToken)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await using var command = new NpgsqlCommand("""
            INSERT INTO endpoints (id, project_id, application_id, token, enabled, custom_user_data, user_id,
                                   created_at, updated_at, token_updated_at, disabled_at, disabled_reason)
            VALUES (@id, @project_id, @application_id, @token, @enabled, @custom_user_data, @user_id,
                    @created_at, @updated_at, @token_updated_at, @disabled_at, @disabled_reason)
            ON CONFLICT (application_id, token) DO NOTHING
            """, connection, (NpgsqlTransaction?)db.Database.CurrentTransaction?.GetDbTransaction());
        command.Parameters.Add(new NpgsqlParameter<Guid>("id", e.Id));
        command.Parameters.Add(new NpgsqlParameter<Guid>("project_id", e.ProjectId));
        command.Parameters.Add(new NpgsqlParameter<Guid>("application_id", e.ApplicationId));
        command.Parameters.Add(new NpgsqlParameter<string>("token", e.Token));
        command.Parameters.Add(new NpgsqlParameter<bool>("enabled", e.Enabled));
        command.Parameters.Add(new NpgsqlParameter("custom_user_data", NpgsqlDbType.Text) { Value = (object?)e.CustomUserData ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("user_id", NpgsqlDbType.Text) { Value = (object?)e.UserId ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("created_at", e.CreatedAt));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("updated_at", e.UpdatedAt));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("token_updated_at", e.TokenUpdatedAt));
        command.Parameters.Add(new NpgsqlParameter("disabled_at", NpgsqlDbType.TimestampTz) { Value = (object?)e.DisabledAt ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("disabled_reason", NpgsqlDbType.Text) { Value = (object?)e.DisabledReason ?? DBNull.Value });
        var inserted = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        if (inserted)
        {
            db.Endpoints.Attach(e);
        }

        return inserted;
    }

    internal static bool IsUniqueViolation(Exception ex) =>
        ex.GetBaseException() is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    /// <summary>Another writer got there first (unique token) or two registrations locked rows in opposite orders.</summary>
    private static bool IsConcurrencyConflict(Exception ex) =>
        ex.GetBaseException() is PostgresException
        {
            SqlState: PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure,
        };
}
