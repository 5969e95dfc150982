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
catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
{
    Console.Error.WriteLine($"{ex.Message} Is another gateway running? Choose another address with Urls=http://127.0.0.1:<port>.");
    return 1;
}
