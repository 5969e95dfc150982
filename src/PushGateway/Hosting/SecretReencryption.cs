using Npgsql;
using PushGateway.Applications;

namespace PushGateway.Hosting;

/// <summary>
/// Seals every stored secret again under the current encryption key, so a previous key can be removed from
/// <c>PushGateway__PreviousEncryptionKeys</c> once this has run. Works in batches of <see cref="BatchSize"/> rows, one
/// short transaction each, the rows picked with <c>FOR UPDATE SKIP LOCKED</c>: several replicas share the work
/// without waiting on each other, an API update of the same application waits for the batch (milliseconds), and a
/// crash leaves every row either old or new, both readable. Idempotent: a row already under the current key is not
/// selected. Rows no configured key opens are skipped (and counted), never changed.
/// </summary>
internal sealed partial class SecretReencryption(NpgsqlDataSource dataSource, SecretBox secrets, ILogger<SecretReencryption> logger) : BackgroundService
{
    internal const int BatchSize = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var (reencrypted, skipped) = await RunAsync(stoppingToken);
            if (reencrypted > 0 || skipped > 0)
            {
                Finished(logger, reencrypted, skipped);
            }
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            // Not fatal: old values stay readable under the previous keys; the next start tries again.
            Failed(logger, ex);
        }
    }

    /// <summary>One full pass (applications, then SNS secrets); returns how many rows were re-encrypted and how many could not be opened.</summary>
    public async Task<(int Reencrypted, int Skipped)> RunAsync(CancellationToken cancellationToken)
    {
        var prefix = secrets.CurrentPrefix;
        var after = Guid.Empty;
        int reencrypted = 0, skipped = 0;
        while (true)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var rows = new List<(Guid Id, byte[] Credentials, byte[]? Events)>();
            await using (var select = new NpgsqlCommand("""
                SELECT id, credentials_ciphertext, events_secret_ciphertext FROM applications
                WHERE id > @after
                  AND (substring(credentials_ciphertext from 1 for @n) <> @prefix
                       OR (events_secret_ciphertext IS NOT NULL AND substring(events_secret_ciphertext from 1 for @n) <> @prefix))
                ORDER BY id LIMIT @limit
                FOR UPDATE SKIP LOCKED
                """, connection, transaction))
            {
                select.Parameters.Add(new NpgsqlParameter<Guid>("after", after));
                select.Parameters.Add(new NpgsqlParameter<int>("n", prefix.Length));
                select.Parameters.Add(new NpgsqlParameter<byte[]>("prefix", prefix));
                select.Parameters.Add(new NpgsqlParameter<int>("limit", BatchSize));
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows.Add((reader.GetGuid(0), reader.GetFieldValue<byte[]>(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<byte[]>(2)));
                }
            }

            if (rows.Count == 0)
            {
                var sns = await Sns.SnsSecretReencryption.RunAsync(dataSource, secrets, cancellationToken);
                return (reencrypted + sns.Reencrypted, skipped + sns.Skipped);
            }

            foreach (var (id, credentials, events) in rows)
            {
                after = id;
                byte[] newCredentials, newEvents;
                try
                {
                    newCredentials = secrets.IsCurrent(credentials) ? credentials
                        : secrets.Seal(secrets.Open(credentials, ApplicationsEndpoints.SecretContext(id)), ApplicationsEndpoints.SecretContext(id));
                    newEvents = events is null || secrets.IsCurrent(events) ? events!
                        : secrets.Seal(secrets.Open(events, ApplicationsEndpoints.EventsSecretContext(id)), ApplicationsEndpoints.EventsSecretContext(id));
                }
                catch (SecretUndecryptableException)
                {
                    skipped++;
                    continue;
                }

                await using var update = new NpgsqlCommand(
                    "UPDATE applications SET credentials_ciphertext = @c, events_secret_ciphertext = @e WHERE id = @id", connection, transaction);
                update.Parameters.Add(new NpgsqlParameter<Guid>("id", id));
                update.Parameters.Add(new NpgsqlParameter<byte[]>("c", newCredentials));
                update.Parameters.Add(new NpgsqlParameter("e", NpgsqlTypes.NpgsqlDbType.Bytea) { Value = (object?)newEvents ?? DBNull.Value });
                await update.ExecuteNonQueryAsync(cancellationToken);
                reencrypted++;
            }

            await transaction.CommitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Start-up check: counts stored secrets no configured key opens (sealed under a key id that is not configured,
    /// or legacy values no key opens). Values with a key id are checked by id alone, without decrypting.
    /// </summary>
    public static async Task<int> CountUndecryptableAsync(NpgsqlDataSource dataSource, SecretBox secrets, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT id, credentials_ciphertext, events_secret_ciphertext FROM applications");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var count = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetGuid(0);
            var ok = secrets.HasKeyFor(reader.GetFieldValue<byte[]>(1), ApplicationsEndpoints.SecretContext(id))
                && (reader.IsDBNull(2) || secrets.HasKeyFor(reader.GetFieldValue<byte[]>(2), ApplicationsEndpoints.EventsSecretContext(id)));
            if (!ok)
            {
                count++;
            }
        }

        return count + await Sns.SnsSecretReencryption.CountUndecryptableAsync(dataSource, secrets, cancellationToken);
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Re-encrypted the secrets of {Count} applications under the current encryption key ({Skipped} could not be opened and were left as they are)")]
    private static partial void Finished(ILogger logger, int count, int skipped);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "Re-encrypting stored secrets failed; the next start tries again")]
    private static partial void Failed(ILogger logger, Exception exception);
}
