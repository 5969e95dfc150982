using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace PushGateway.IntegrationTests.Infrastructure;

public static class ApiExtensions
{
    public static async Task<Guid> CreateApnsAppAsync(this HttpClient client, CancellationToken cancellationToken, string environment = "production", string bundleId = "com.example.app")
    {
        var response = await client.PostAsJsonAsync("v1/applications", new
        {
            name = "ios-" + environment,
            platform = "apns",
            environment,
            credentials = TestCredentials.ApnsToken(bundleId: bundleId),
        }, cancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadObjectAsync(cancellationToken)).Id();
    }

    public static async Task<Guid> CreateFcmAppAsync(this HttpClient client, CancellationToken cancellationToken)
    {
        var response = await client.PostAsJsonAsync("v1/applications", new
        {
            name = "android",
            platform = "fcm",
            credentials = new { type = "serviceAccount", serviceAccountJson = TestCredentials.NewServiceAccountJson() },
        }, cancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadObjectAsync(cancellationToken)).Id();
    }

    public static async Task<JsonObject> CreateEndpointAsync(this HttpClient client, Guid appId, string token, CancellationToken cancellationToken, string? userId = null)
    {
        var response = await client.PostAsJsonAsync($"v1/applications/{appId}/endpoints",
            userId is null ? new { token } : (object)new { token, userId }, cancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.ReadObjectAsync(cancellationToken);
    }

    public static async Task<(HttpStatusCode Status, JsonObject Body)> RegisterAsync(this HttpClient client, Guid appId, object body, CancellationToken cancellationToken)
    {
        var response = await client.PostAsJsonAsync($"v1/applications/{appId}/registrations", body, cancellationToken);
        return (response.StatusCode, await response.ReadObjectAsync(cancellationToken));
    }

    /// <summary>Asserts an RFC 9457 problem with the contract's type and returns its body.</summary>
    public static async Task<JsonObject> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string type, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(status == response.StatusCode, $"Expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(type, body["type"]!.GetValue<string>());
        Assert.Equal((int)status, body["status"]!.GetValue<int>());
        return body;
    }
}
