using PushGateway.Cli;

using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl-C cancels the request in flight (and a --wait poll); the process then exits with 130.
    e.Cancel = true;
    interrupted.Cancel();
};

return await PushGatewayCli.RunAsync(args, Console.Out, Console.Error, CliEnvironment.FromProcess(), handler: null, interrupted.Token);
