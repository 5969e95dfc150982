namespace PushGateway.Cli;

/// <summary>
/// What the CLI reads from its surroundings: environment variables, the working directory (for the local admin key
/// file) and the clock (for <c>send --wait</c>). Tests pass their own so the machine's settings do not leak in.
/// </summary>
public sealed class CliEnvironment
{
    /// <summary>Looks up an environment variable (<c>PUSHGATEWAY_URL</c>, <c>PUSHGATEWAY_KEY</c>); null when unset.</summary>
    public required Func<string, string?> GetVariable { get; init; }

    /// <summary>The directory under which the local admin key file is looked for.</summary>
    public required string CurrentDirectory { get; init; }

    /// <summary>The clock used for <c>--wait</c> deadlines and poll intervals.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Items asked for per page when following <c>nextCursor</c> (the API's maximum); tests make it small.</summary>
    internal int PageSize { get; init; } = 1000;

    /// <summary>How often <c>send --wait</c> asks for the message's status.</summary>
    internal TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The real process environment and working directory.</summary>
    public static CliEnvironment FromProcess() => new()
    {
        GetVariable = Environment.GetEnvironmentVariable,
        CurrentDirectory = Environment.CurrentDirectory,
    };
}
