using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PushGateway.Cli;

/// <summary>The REST calls the commands make: JSON in, JSON out, non-2xx turned into <see cref="GatewayProblemException"/>.</summary>
internal sealed class GatewayClient : IDisposable
{
    private static readonly string UserAgent = "pushgateway-cli/" + (typeof(GatewayClient).Assembly.GetName().Version?.ToString(3) ?? "0");

    private readonly HttpClient _http;
    private readonly int _pageSize;

    public GatewayClient(Uri baseAddress, string key, HttpMessageHandler? handler, int pageSize)
    {
        _http = handler is null
            ? new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) }, disposeHandler: true)
            : new HttpClient(handler, disposeHandler: false);
        _http.BaseAddress = baseAddress;
        _http.Timeout = TimeSpan.FromSeconds(60);
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        _http.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        _pageSize = pageSize;
    }

    public Task<JsonNode?> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, path, body: null, headers: null, cancellationToken);

    public Task<JsonNode?> PostAsync(string path, JsonNode body, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? headers = null) =>
        SendAsync(HttpMethod.Post, path, body, headers, cancellationToken);

    public Task<JsonNode?> DeleteAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, path, body: null, headers: null, cancellationToken);

    /// <summary>Sends one request; returns the parsed body (null for an empty one, e.g. 204).</summary>
    public async Task<JsonNode?> SendAsync(
        HttpMethod method, string path, JsonNode? body, IReadOnlyDictionary<string, string>? headers, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await _http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw GatewayProblemException.From(response.StatusCode, response.ReasonPhrase, text);
        }

        if (text.Length == 0)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            throw new UnexpectedResponseException(
                $"{method} {path} answered {(int)response.StatusCode} with a body that is not JSON; is --url a PushGateway?");
        }
    }

    /// <summary>
    /// Follows <c>nextCursor</c> until the list ends or <paramref name="max"/> items are in. Returns the list in the
    /// API's own shape, <c>{items, nextCursor}</c>, where <c>nextCursor</c> is set only if <paramref name="max"/> cut it short.
    /// </summary>
    public async Task<JsonObject> GetAllPagesAsync(string path, IReadOnlyList<(string Name, string? Value)> query, int? max, CancellationToken cancellationToken)
    {
        var items = new JsonArray();
        string? cursor = null;
        do
        {
            var take = max is { } m ? Math.Min(_pageSize, m - items.Count) : _pageSize;
            var parameters = query.Where(p => p.Value is not null).Append(("limit", take.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            if (cursor is not null)
            {
                parameters = parameters.Append(("cursor", cursor));
            }

            var url = path + "?" + string.Join("&", parameters.Select(p => p.Item1 + "=" + Uri.EscapeDataString(p.Item2!)));
            var page = await GetAsync(url, cancellationToken) as JsonObject
                ?? throw new UnexpectedResponseException($"GET {path} did not answer a JSON object.");
            if (page["items"] is not JsonArray pageItems)
            {
                throw new UnexpectedResponseException($"GET {path} answered without an items list.");
            }

            // A node has one parent: detach the page's items before adding them to the combined list.
            var moved = pageItems.ToList();
            pageItems.Clear();
            foreach (var item in moved)
            {
                items.Add(item);
            }

            cursor = page["nextCursor"]?.GetValue<string>();
        }
        while (cursor is not null && (max is null || items.Count < max));

        return new JsonObject { ["items"] = items, ["nextCursor"] = cursor };
    }

    public void Dispose() => _http.Dispose();
}
