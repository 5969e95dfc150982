using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PushGateway.TestSupport;

/// <summary>
/// An OAuth token endpoint stand-in on 127.0.0.1 (plain HTTP, port 0) that answers every request with one fixed
/// status and body and counts what it received: for "this URL is never called" and "the endpoint's text never
/// reaches a tenant" tests. Shared by the unit and integration test projects (linked source).
/// </summary>
public sealed class FakeTokenEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private FakeTokenEndpoint(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    /// <summary><c>http://127.0.0.1:{port}/token</c>.</summary>
    public Uri Url { get; }

    /// <summary>Requests received so far, on any path.</summary>
    public int Requests => Volatile.Read(ref _requests);

    public int Status { get; set; } = 400;

    public string ContentType { get; set; } = "application/json";

    public string Body { get; set; } = """{"error":"invalid_grant"}""";

    public static async Task<FakeTokenEndpoint> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        FakeTokenEndpoint? endpoint = null;
        app.Run(async context =>
        {
            Interlocked.Increment(ref endpoint!._requests);
            context.Response.StatusCode = endpoint.Status;
            context.Response.ContentType = endpoint.ContentType;
            await context.Response.WriteAsync(endpoint.Body, Encoding.UTF8, context.RequestAborted);
        });
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        endpoint = new FakeTokenEndpoint(app, new Uri(address.TrimEnd('/') + "/token"));
        return endpoint;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
