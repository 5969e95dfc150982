using PushGateway.Hosting;

namespace PushGateway.Endpoints;

/// <summary>One valid line of an import.</summary>
internal sealed record ImportLine(long Number, string Token, Optional<string> CustomUserData, bool? Enabled, Optional<string> UserId, string[] Topics);

/// <summary>
/// A run of consecutive input lines written in one transaction: <see cref="Lines"/> holds the valid ones (no token twice),
/// <see cref="LastLine"/> the number of the last input line it covers (valid or not). <see cref="After"/> are the
/// earlier batches, still in flight when this one was sealed, that share a token with it: they must commit first, so
/// that a token repeated in the file is decided in file order whatever writer takes which batch.
/// </summary>
internal sealed class ImportBatch(long sequence, List<ImportLine> lines, HashSet<string> tokens, long lastLine, IReadOnlyList<ImportBatch> after)
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Sequence { get; } = sequence;

    public List<ImportLine> Lines { get; } = lines;

    public HashSet<string> Tokens { get; } = tokens;

    public long LastLine { get; } = lastLine;

    public IReadOnlyList<ImportBatch> After { get; } = after;

    /// <summary>Completes when the batch is committed, or faults when it is not.</summary>
    public Task Done => _done.Task;

    public void Committed() => _done.TrySetResult();

    public void Failed(Exception exception) => _done.TrySetException(exception);
}
