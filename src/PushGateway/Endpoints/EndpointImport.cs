using System.Runtime.ExceptionServices;
using System.Text.Json;
using System.Threading.Channels;
using Npgsql;
using PushGateway.Data;
using PushGateway.Hosting;
using PushGateway.Topics;

namespace PushGateway.Endpoints;

/// <summary>One problem line of an import: its number (from 1), what kind (invalid or conflict) and why.</summary>
internal sealed record ImportProblem(long Line, string Kind, string Error, Guid? EndpointId = null);

internal sealed record ImportSummary(long Lines, long Created, long Existing, long Conflicts, long Invalid, IReadOnlyList<ImportProblem> Problems);

/// <summary>
/// Bulk import of endpoints from NDJSON with SNS create semantics per line: new token → created; existing token whose
/// supplied attributes match → existing (kept as it is); supplied attributes that differ → conflict, left unchanged.
/// The request's thread reads and checks the lines one at a time and seals them into batches of
/// <see cref="BatchSize"/>; <see cref="Writers"/> writers, each on its own connection, write the batches at the same
/// time, one transaction each (<see cref="ImportBatchWriter"/>), so PostgreSQL works on two cores while the next lines
/// are parsed. At most a few batches are in memory whatever the size. A failure leaves every committed batch whole;
/// <see cref="CommittedLines"/> is the end of the run of committed batches from the start, where to resume.
/// </summary>
internal sealed class EndpointImport(NpgsqlDataSource dataSource, Application app, bool raiseEvents, DateTimeOffset now, WorkSignal? eventSignal = null)
{
    public const int BatchSize = 2000;
    public const int Writers = 2;
    public const int MaxProblems = 100;

    private readonly Lock _gate = new();
    private readonly List<ImportProblem> _problems = [];
    private readonly SortedDictionary<long, long> _committedOutOfOrder = [];
    private readonly List<ImportBatch> _inFlight = [];
    private List<ImportLine> _batch = [];
    private HashSet<string> _batchTokens = new(StringComparer.Ordinal);
    private long _created, _existing, _conflicts, _invalid, _lines, _sealed, _nextToCommit, _committedLines;

    /// <summary>Every line up to this one is committed (or was invalid).</summary>
    public long CommittedLines
    {
        get
        {
            lock (_gate)
            {
                return _committedLines;
            }
        }
    }

    public ImportSummary Summary
    {
        get
        {
            lock (_gate)
            {
                return new(_lines, _created, _existing, _conflicts, _invalid, _problems.OrderBy(p => p.Line).Take(MaxProblems).ToList());
            }
        }
    }

    /// <summary>Reads every line and waits for the writers; throws what stopped them (the database, cancellation).</summary>
    public async Task RunAsync(TextReader reader, CancellationToken cancellationToken)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateBounded<ImportBatch>(new BoundedChannelOptions(Writers) { SingleWriter = true });
        var writers = Enumerable.Range(0, Writers).Select(_ => Task.Run(() => WriteAllAsync(channel.Reader, failed, cancellationToken), CancellationToken.None)).ToArray();
        Exception? readError = null;
        try
        {
            while (await reader.ReadLineAsync(failed.Token) is { } text)
            {
                if (Add(text) is { } batch)
                {
                    await channel.Writer.WriteAsync(batch, failed.Token);
                }
            }

            await channel.Writer.WriteAsync(Seal(), failed.Token);
        }
        catch (OperationCanceledException) when (failed.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // A writer failed; what it threw is rethrown below.
        }
        catch (Exception ex)
        {
            readError = ex;
            await failed.CancelAsync();
        }
        finally
        {
            channel.Writer.TryComplete();
        }

        try
        {
            await Task.WhenAll(writers);
        }
        catch (Exception) when (readError is not null)
        {
        }

        if (readError is not null)
        {
            ExceptionDispatchInfo.Throw(readError);
        }
    }

    private async Task WriteAllAsync(ChannelReader<ImportBatch> batches, CancellationTokenSource failed, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var writer = new ImportBatchWriter(connection, app, raiseEvents, now);
            await foreach (var batch in batches.ReadAllAsync(failed.Token))
            {
                try
                {
                    foreach (var earlier in batch.After)
                    {
                        await earlier.Done;
                    }

                    failed.Token.ThrowIfCancellationRequested();
                    var result = batch.Lines.Count == 0 ? new ImportBatchResult(0, 0, 0, []) : await writer.WriteAsync(batch, cancellationToken);
                    Record(batch, result);
                    batch.Committed();
                    if (raiseEvents && result.Created > 0)
                    {
                        eventSignal?.Notify();
                    }
                }
                catch (Exception ex)
                {
                    batch.Failed(ex);
                    throw;
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !failed.IsCancellationRequested)
        {
            await failed.CancelAsync();
            throw;
        }
    }

    /// <summary>Checks one line; returns a batch when this line sealed one.</summary>
    private ImportBatch? Add(string text)
    {
        var number = ++_lines;
        if (string.IsNullOrWhiteSpace(text))
        {
            Invalid(new ImportProblem(number, "invalid", "Empty line."));
            return null;
        }

        var line = Parse(number, text, out var error);
        if (line is null)
        {
            Invalid(new ImportProblem(number, "invalid", error!));
            return null;
        }

        // A token twice in one batch: the first must be written before the second can be compared with it.
        ImportBatch? sealedBatch = null;
        if (_batchTokens.Contains(line.Token))
        {
            _lines--;
            sealedBatch = Seal();
            _lines++;
        }

        _batch.Add(line);
        _batchTokens.Add(line.Token);
        return sealedBatch ?? (_batch.Count >= BatchSize ? Seal() : null);
    }

    /// <summary>Closes the lines read so far into a batch (possibly empty), to commit after the in-flight batches it shares a token with.</summary>
    private ImportBatch Seal()
    {
        _inFlight.RemoveAll(b => b.Done.IsCompletedSuccessfully);
        var after = _inFlight.Where(b => _batchTokens.Overlaps(b.Tokens)).ToList();
        var batch = new ImportBatch(_sealed++, _batch, _batchTokens, _lines, after);
        _inFlight.Add(batch);
        _batch = [];
        _batchTokens = new HashSet<string>(StringComparer.Ordinal);
        return batch;
    }

    private void Record(ImportBatch batch, ImportBatchResult result)
    {
        lock (_gate)
        {
            _created += result.Created;
            _existing += result.Existing;
            _conflicts += result.Conflicts;
            foreach (var problem in result.Problems)
            {
                AddProblem(problem);
            }

            _committedOutOfOrder[batch.Sequence] = batch.LastLine;
            while (_committedOutOfOrder.Remove(_nextToCommit, out var last))
            {
                _committedLines = last;
                _nextToCommit++;
            }
        }
    }

    private void Invalid(ImportProblem problem)
    {
        lock (_gate)
        {
            _invalid++;
            AddProblem(problem);
        }
    }

    /// <summary>Keeps the problems with the lowest line numbers (batches commit in any order).</summary>
    private void AddProblem(ImportProblem problem)
    {
        _problems.Add(problem);
        if (_problems.Count > 2 * MaxProblems)
        {
            _problems.Sort((a, b) => a.Line.CompareTo(b.Line));
            _problems.RemoveRange(MaxProblems, _problems.Count - MaxProblems);
        }
    }

    private ImportLine? Parse(long number, string text, out string? error)
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

            return new ImportLine(number, normalized, customUserData, enabled, userId, topics);
        }
    }
}
