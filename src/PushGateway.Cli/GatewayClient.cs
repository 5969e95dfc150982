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
    private readonly HttpMessageHandler? _handler;
    private readonly int _pageSize;
    private HttpClient? _transfer;

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
        _handler = handler;
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

    /// <summary>
    /// POSTs a file as NDJSON without a client timeout (an import takes as long as its size), reporting the bytes sent;
    /// returns the answer's JSON.
    /// </summary>
    public async Task<JsonNode?> UploadNdjsonAsync(string path, Stream file, Action<long> progress, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StreamContent(new ProgressStream(file, progress), 64 * 1024) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        using var response = await SendUnboundedAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return response.IsSuccessStatusCode
            ? JsonNode.Parse(text)
            : throw GatewayProblemException.From(response.StatusCode, response.ReasonPhrase, text);
    }

    /// <summary>GETs an NDJSON stream into <paramref name="output"/>, reporting the lines received; returns how many.</summary>
    public async Task<long> DownloadNdjsonAsync(string path, Stream output, Action<long> progress, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await SendUnboundedAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw GatewayProblemException.From(response.StatusCode, response.ReasonPhrase, await response.Content.ReadAsStringAsync(cancellationToken));
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[64 * 1024];
        long lines = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            progress(lines);
        }

        return lines;
    }

    /// <summary>The same client's handler and headers, without its 60-second timeout.</summary>
    private async Task<HttpResponseMessage> SendUnboundedAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        _transfer ??= CreateTransferClient();
        request.RequestUri = new Uri(_http.BaseAddress!, request.RequestUri!);
        return await _transfer.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    private HttpClient CreateTransferClient()
    {
        var client = _handler is null
            ? new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) }, disposeHandler: true)
            : new HttpClient(_handler, disposeHandler: false);
        client.Timeout = Timeout.InfiniteTimeSpan;
        client.DefaultRequestHeaders.Authorization = _http.DefaultRequestHeaders.Authorization;
        client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
        return client;
    }

    public void Dispose()
    {
        _http.Dispose();
        _transfer?.Dispose();
    }

    /// <summary>Counts what is read from the wrapped stream (the upload's progress).</summary>
    private sealed class ProgressStream(Stream inner, Action<long> progress) : Stream
    {
        private long _total;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _total; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int read)
        {
            _total += read;
            progress(_total);
            return read;
        }
    }
}
