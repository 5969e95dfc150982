using Npgsql;
using PushGateway.Hosting;

namespace PushGateway.Sns;

/// <summary>
/// The SNS secrets' part of key rotation (<see cref="SecretReencryption"/>): seals every SNS secret again under the
/// current key, in batches picked with <c>FOR UPDATE SKIP LOCKED</c>, and counts the ones no configured key opens
/// for the start-up check. Revoked keys are included: nothing should stay under a key the operator removes.
/// </summary>
internal static class SnsSecretReencryption
{
    public static async Task<(int Reencrypted, int Skipped)> RunAsync(NpgsqlDataSource dataSource, SecretBox secrets, CancellationToken cancellationToken)
    {
        var prefix = secrets.CurrentPrefix;
        var after = Guid.Empty;
        int reencrypted = 0, skipped = 0;
        while (true)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var rows = new List<(Guid Id, byte[] Secret)>();
            await using (var select = new NpgsqlCommand("""
                SELECT id, secret_ciphertext FROM sns_credentials
                WHERE id > @after AND substring(secret_ciphertext from 1 for @n) <> @prefix
                ORDER BY id LIMIT @limit
                FOR UPDATE SKIP LOCKED
                """, connection, transaction))
            {
                select.Parameters.Add(new NpgsqlParameter<Guid>("after", after));
                select.Parameters.Add(new NpgsqlParameter<int>("n", prefix.Length));
                select.Parameters.Add(new NpgsqlParameter<byte[]>("prefix", prefix));
                select.Parameters.Add(new NpgsqlParameter<int>("limit", SecretReencryption.BatchSize));
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows.Add((reader.GetGuid(0), reader.GetFieldValue<byte[]>(1)));
                }
            }

            if (rows.Count == 0)
            {
                return (reencrypted, skipped);
            }

            foreach (var (id, secret) in rows)
            {
                after = id;
                byte[] resealed;
                try
                {
                    resealed = secrets.Seal(secrets.Open(secret, SnsCredentials.SecretContext(id)), SnsCredentials.SecretContext(id));
                }
                catch (SecretUndecryptableException)
                {
                    skipped++;
                    continue;
                }

                await using var update = new NpgsqlCommand("UPDATE sns_credentials SET secret_ciphertext = @s WHERE id = @id", connection, transaction);
                update.Parameters.Add(new NpgsqlParameter<Guid>("id", id));
                update.Parameters.Add(new NpgsqlParameter<byte[]>("s", resealed));
                await update.ExecuteNonQueryAsync(cancellationToken);
                reencrypted++;
            }

            await transaction.CommitAsync(cancellationToken);
        }
    }

    public static async Task<int> CountUndecryptableAsync(NpgsqlDataSource dataSource, SecretBox secrets, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT id, secret_ciphertext FROM sns_credentials WHERE revoked_at IS NULL");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var count = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            if (!secrets.HasKeyFor(reader.GetFieldValue<byte[]>(1), SnsCredentials.SecretContext(reader.GetGuid(0))))
            {
                count++;
            }
        }

        return count;
    }
}
