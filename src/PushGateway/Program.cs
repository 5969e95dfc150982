using PushGateway.Hosting;

try
{
    await using var app = await GatewayApp.BuildAsync(args, configure: null, CancellationToken.None);
    await app.RunAsync();
    return 0;
}
catch (GatewayStartupException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}
