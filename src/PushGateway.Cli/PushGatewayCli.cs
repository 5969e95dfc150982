using System.CommandLine;
using PushGateway.Cli.Commands;

namespace PushGateway.Cli;

/// <summary>
/// The <c>pushgateway</c> command line as a library: <see cref="RunAsync(string[], TextWriter, TextWriter, HttpMessageHandler?)"/>
/// parses, calls the gateway's REST API and writes to the given writers, so tests (and other tools) run it
/// in-process and read what an operator would see.
/// </summary>
public static class PushGatewayCli
{
    /// <summary>The command name shown in usage text (the assembly is PushGateway.Cli; see the csproj).</summary>
    public const string CommandName = "pushgateway";

    /// <summary>Runs one command line with the process environment; returns an <see cref="ExitCodes"/> value.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, HttpMessageHandler? handler = null) =>
        RunAsync(args, stdout, stderr, CliEnvironment.FromProcess(), handler, CancellationToken.None);

    /// <summary>Runs one command line with an explicit environment (variables, working directory, clock).</summary>
    public static async Task<int> RunAsync(
        string[] args, TextWriter stdout, TextWriter stderr, CliEnvironment environment, HttpMessageHandler? handler, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        var host = new CliHost(stdout, stderr, environment, handler);
        var root = CommandTree.Build(host);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await stderr.WriteLineAsync($"error: {error.Message}");
            }

            var path = string.Join(' ', Path(parse.CommandResult.Command));
            await stderr.WriteLineAsync($"Run '{path} --help' for usage.");
            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync(new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            // Bugs should surface with their stack trace; expected failures are mapped to exit codes by CliHost.
            EnableDefaultExceptionHandler = false,
            // Program.cs owns Ctrl-C; in-process callers must not have console handlers registered for them.
            ProcessTerminationTimeout = null,
        }, cancellationToken);
    }

    private static IEnumerable<string> Path(Command command)
    {
        var names = new List<string>();
        for (var c = command; c is not null; c = c.Parents.OfType<Command>().FirstOrDefault())
        {
            names.Insert(0, c.Name);
        }

        return names;
    }
}
