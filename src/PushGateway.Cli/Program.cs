using PushGateway.Cli;

using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl-C cancels the request in flight (or a --wait poll) and the CLI exits with 130; a second one
    // ends the process the usual way.
    if (!interrupted.IsCancellationRequested)
    {
        e.Cancel = true;
        interrupted.Cancel();
    }
};

return await PushGatewayCli.RunAsync(args, Console.Out, Console.Error, CliEnvironment.FromProcess(), handler: null, interrupted.Token);
