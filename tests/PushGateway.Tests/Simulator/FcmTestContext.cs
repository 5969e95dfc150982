using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using PushGateway.Simulator;

namespace PushGateway.Tests.Simulator;

/// <summary>A started simulator with one registered service account and an HTTP/2 client; one per test.</summary>
internal sealed class FcmTestContext : IAsyncDisposable
{
    public const string ProjectId = "demo-project";
    public const string Token = "fcm-token_0123456789:ABCDEFGHIJ-abcdefghij.xyz";

    private FcmTestContext(SimulatorHost sim, FakeTimeProvider time, FcmServiceAccountResult account, JsonElement json, HttpClient client)
    {
        Sim = sim;
        Time = time;
        Account = account;
        ServiceAccount = json;
        Client = client;
    }

    public SimulatorHost Sim { get; }
    public FakeTimeProvider Time { get; }
    public FcmServiceAccountResult Account { get; }
    public JsonElement ServiceAccount { get; }
    public HttpClient Client { get; }
    public SimulatorState State => Sim.State;
    public string PrivateKeyPem => ServiceAccount.GetProperty("private_key").GetString()!;
    public string ClientEmail => ServiceAccount.GetProperty("client_email").GetString()!;

    public static async Task<FcmTestContext> StartAsync(CancellationToken cancellationToken)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 15, 12, 0, 0, TimeSpan.Zero));
        var sim = await SimulatorHost.StartAsync(new SimulatorOptions { TimeProvider = time }, cancellationToken);
        var account = sim.State.AddFcmServiceAccount(new FcmServiceAccountRequest { ProjectId = ProjectId });
        using var document = JsonDocument.Parse(account.ServiceAccountJson!);
        return new FcmTestContext(sim, time, account, document.RootElement.Clone(), TestClients.Create(sim.CertificatePath));
    }

    public Dictionary<string, object> Claims(TimeSpan? lifetime = null) => new()
    {
        ["iss"] = ClientEmail,
        ["scope"] = "https://www.googleapis.com/auth/firebase.messaging",
        ["aud"] = ServiceAccount.GetProperty("token_uri").GetString()!,
        ["iat"] = Time.GetUtcNow().ToUnixTimeSeconds(),
        ["exp"] = (Time.GetUtcNow() + (lifetime ?? TimeSpan.FromHours(1))).ToUnixTimeSeconds(),
    };

    public string Assertion(IDictionary<string, object>? claims = null, string? privateKeyPem = null) =>
        TestJwt.Rs256(privateKeyPem ?? PrivateKeyPem, claims ?? Claims(), ServiceAccount.GetProperty("private_key_id").GetString());

    public async Task<(HttpStatusCode Status, JsonElement Body)> RequestTokenAsync(
        string assertion, string grantType = "urn:ietf:params:oauth:grant-type:jwt-bearer", HttpClient? client = null, CancellationToken cancellationToken = default)
    {
        using var content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = grantType, ["assertion"] = assertion });
        using var response = await (client ?? Client).PostAsync(Sim.FcmTokenUrl, content, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        using var document = JsonDocument.Parse(text);
        return (response.StatusCode, document.RootElement.Clone());
    }

    public async Task<string> AccessTokenAsync(CancellationToken cancellationToken)
    {
        var (status, body) = await RequestTokenAsync(Assertion(), cancellationToken: cancellationToken);
        Assert.Equal(HttpStatusCode.OK, status);
        return body.GetProperty("access_token").GetString()!;
    }

    public static string Message(string token = Token, string extra = "") =>
        "{\"message\":{\"token\":\"" + token + "\",\"notification\":{\"title\":\"Hi\",\"body\":\"There\"}" + extra + "}}";

    public async Task<FcmReply> SendAsync(
        string? accessToken, string body, string projectId = ProjectId, Version? version = null, HttpClient? client = null,
        CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Sim.FcmUrl, $"v1/projects/{projectId}/messages:send"))
        {
            Version = version ?? HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (accessToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }

        using var response = await (client ?? Client).SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        using var document = JsonDocument.Parse(text);
        return new FcmReply(
            response.StatusCode,
            document.RootElement.Clone(),
            response.Headers.RetryAfter?.Delta is { } delta ? (int)delta.TotalSeconds : null,
            response.Version);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Sim.DisposeAsync();
    }
}

internal sealed record FcmReply(HttpStatusCode Status, JsonElement Body, int? RetryAfter, Version Version)
{
    public JsonElement Error => Body.GetProperty("error");
    public string GrpcStatus => Error.GetProperty("status").GetString()!;
    public string ErrorMessage => Error.GetProperty("message").GetString()!;

    public IEnumerable<string> DetailTypes =>
        Error.GetProperty("details").EnumerateArray().Select(d => d.GetProperty("@type").GetString()!);

    public JsonElement? Detail(string typeSuffix) =>
        Error.GetProperty("details").EnumerateArray()
            .Where(d => d.GetProperty("@type").GetString()!.EndsWith(typeSuffix, StringComparison.Ordinal))
            .Select(d => (JsonElement?)d)
            .FirstOrDefault();

    public string? FcmErrorCode => Detail(".FcmError")?.GetProperty("errorCode").GetString();
}
