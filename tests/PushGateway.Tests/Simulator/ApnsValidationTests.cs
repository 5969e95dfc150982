using System.Net;
using System.Net.Http.Headers;
using System.Text;
using PushGateway.Simulator;

namespace PushGateway.Tests.Simulator;

/// <summary>Checks 1, 2, 4, 5, 6 and 7 of the contract, one case per Apple reason, plus their order.</summary>
public sealed class ApnsValidationTests
{
    public static TheoryData<string, int, string?> Cases => new()
    {
        { "get-method", 405, ApnsReasons.MethodNotAllowed },
        { "other-path", 404, ApnsReasons.BadPath },
        { "nested-token-path", 404, ApnsReasons.BadPath },
        { "missing-device-token", 400, ApnsReasons.MissingDeviceToken },
        { "upper-case-apns-id", 400, ApnsReasons.BadMessageId },
        { "no-authorization", 403, ApnsReasons.MissingProviderToken },
        { "empty-bearer", 403, ApnsReasons.MissingProviderToken },
        { "missing-topic", 400, ApnsReasons.MissingTopic },
        { "collapse-id-65-bytes", 400, ApnsReasons.BadCollapseId },
        { "collapse-id-66-utf8-bytes-22-chars", 400, ApnsReasons.BadCollapseId },
        { "priority-7", 400, ApnsReasons.BadPriority },
        { "unknown-push-type", 400, ApnsReasons.InvalidPushType },
        { "background-priority-10", 400, ApnsReasons.BadPriority },
        { "expiration-not-integer", 400, ApnsReasons.BadExpirationDate },
        { "voip-without-voip-topic", 400, ApnsReasons.BadTopic },
        { "liveactivity-without-suffix", 400, ApnsReasons.BadTopic },
        { "odd-length-token", 400, ApnsReasons.BadDeviceToken },
        { "non-hex-token", 400, ApnsReasons.BadDeviceToken },
        { "empty-body", 400, ApnsReasons.PayloadEmpty },
        { "body-4097-bytes", 413, ApnsReasons.PayloadTooLarge },
        { "voip-body-5121-bytes", 413, ApnsReasons.PayloadTooLarge },
        { "body-not-json", 400, ApnsReasons.BadPayload },
        { "body-json-array", 400, ApnsReasons.BadPayload },
        { "body-trailing-garbage", 400, ApnsReasons.BadPayload },

        // Accepted variants at the edges of the same rules.
        { "collapse-id-64-bytes", 200, null },
        { "background-priority-5", 200, null },
        { "priority-1", 200, null },
        { "two-hex-char-token", 200, null },
        { "upper-case-hex-token", 200, null },
        { "body-4096-bytes", 200, null },
        { "voip-body-5120-bytes", 200, null },
        { "expiration-zero", 200, null },
        { "liveactivity-with-suffix", 200, null },
        { "widgets-push-type", 200, null },

        // Order: the earlier check wins.
        { "order-method-before-path", 405, ApnsReasons.MethodNotAllowed },
        { "order-apns-id-before-auth", 400, ApnsReasons.BadMessageId },
        { "order-auth-before-topic", 403, ApnsReasons.MissingProviderToken },
        { "order-topic-before-priority", 400, ApnsReasons.MissingTopic },
        { "order-priority-before-token", 400, ApnsReasons.BadPriority },
        { "order-token-before-payload", 400, ApnsReasons.BadDeviceToken },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Send_ViolatingOneRule_AnswersAppleStatusAndReason(string @case, int status, string? reason)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);

        var reply = await SendCaseAsync(t, @case, ct);

        Assert.Equal((status, reason), ((int)reply.Status, reply.Reason));
        if (status != 200)
        {
            Assert.Equal("application/json", reply.ContentType);
            Assert.True(Guid.TryParse(reply.ApnsId, out _), "errors carry an apns-id");
        }
    }

    [Fact]
    public async Task Send_WithOwnApnsId_EchoesIt()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        var id = Guid.NewGuid().ToString();

        var ok = await t.SendAsync(configure: r => r.Headers.Add("apns-id", id), cancellationToken: ct);
        var rejected = await t.SendAsync(token: "abc", configure: r => r.Headers.Add("apns-id", id), cancellationToken: ct);

        Assert.Equal(id, ok.ApnsId);
        Assert.Equal(id, rejected.ApnsId);
        Assert.Equal(ApnsReasons.BadDeviceToken, rejected.Reason);
    }

    [Fact]
    public async Task Send_OnSandbox_AddsApnsUniqueIdOnSuccessOnly()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);

        var sandbox = await t.SendAsync(sandbox: true, cancellationToken: ct);
        var sandboxRejected = await t.SendAsync(sandbox: true, topic: null, cancellationToken: ct);
        var production = await t.SendAsync(cancellationToken: ct);

        Assert.Equal(HttpStatusCode.OK, sandbox.Status);
        Assert.True(Guid.TryParse(sandbox.UniqueId, out _));
        Assert.Null(sandboxRejected.UniqueId);
        Assert.Null(production.UniqueId);
    }

    [Fact]
    public async Task Send_WithRepeatedHeaderOnTheWire_AnswersDuplicateHeaders()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);

        // HttpClient folds repeated values into one field, so this request is written frame by frame.
        var (status, body) = await RawHttp2.PostAsync(
            t.Sim.ApnsProductionUrl,
            t.Sim.CertificatePath,
            "/3/device/" + ApnsTestContext.Token,
            [
                ("authorization", "bearer " + t.Jwt()),
                ("apns-topic", ApnsTestContext.Topic),
                ("apns-topic", ApnsTestContext.Topic),
            ],
            """{"aps":{}}""",
            ct);

        Assert.Equal(400, status);
        Assert.Contains("\"DuplicateHeaders\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_SameRequestFramedByHand_IsAccepted()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);

        // Control for the test above: the hand-made framing itself is accepted.
        var (status, _) = await RawHttp2.PostAsync(
            t.Sim.ApnsProductionUrl,
            t.Sim.CertificatePath,
            "/3/device/" + ApnsTestContext.Token,
            [("authorization", "bearer " + t.Jwt()), ("apns-topic", ApnsTestContext.Topic)],
            """{"aps":{}}""",
            ct);

        Assert.Equal(200, status);
    }

    [Fact]
    public async Task Connect_WithHttp11_IsRefusedBecauseApnsIsHttp2Only()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var t = await ApnsTestContext.StartAsync(cancellationToken: ct);
        using var client = TestClients.Create(t.Sim.CertificatePath, version: HttpVersion.Version11);

        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(t.Sim.ApnsProductionUrl, "3/device/" + ApnsTestContext.Token))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new StringContent("{}"),
        };

        var failure = await Record.ExceptionAsync(() => client.SendAsync(request, ct));
        Assert.IsType<HttpRequestException>(failure);
    }

    private static Task<ApnsReply> SendCaseAsync(ApnsTestContext t, string @case, CancellationToken ct)
    {
        const string voipTopic = ApnsTestContext.Topic + ".voip";
        return @case switch
        {
            "get-method" => Send(t, ct, method: HttpMethod.Get),
            "other-path" => Send(t, ct, path: "3/devices/" + ApnsTestContext.Token),
            "nested-token-path" => Send(t, ct, path: "3/device/" + ApnsTestContext.Token + "/extra"),
            "missing-device-token" => Send(t, ct, path: "3/device/"),
            "upper-case-apns-id" => t.SendAsync(configure: r => r.Headers.Add("apns-id", Guid.NewGuid().ToString().ToUpperInvariant()), cancellationToken: ct),
            "no-authorization" => t.SendAsync(noAuth: true, cancellationToken: ct),
            "empty-bearer" => t.SendAsync(noAuth: true, configure: r => r.Headers.TryAddWithoutValidation("authorization", "bearer "), cancellationToken: ct),
            "missing-topic" => t.SendAsync(topic: null, cancellationToken: ct),
            "collapse-id-65-bytes" => t.SendAsync(configure: Header("apns-collapse-id", new string('c', 65)), cancellationToken: ct),
            "collapse-id-66-utf8-bytes-22-chars" => t.SendAsync(configure: Header("apns-collapse-id", new string('€', 22)), cancellationToken: ct),
            "collapse-id-64-bytes" => t.SendAsync(configure: Header("apns-collapse-id", new string('c', 64)), cancellationToken: ct),
            "priority-7" => t.SendAsync(configure: Header("apns-priority", "7"), cancellationToken: ct),
            "priority-1" => t.SendAsync(configure: Header("apns-priority", "1"), cancellationToken: ct),
            "unknown-push-type" => t.SendAsync(configure: Header("apns-push-type", "banner"), cancellationToken: ct),
            "background-priority-10" => t.SendAsync(configure: Headers(("apns-push-type", "background"), ("apns-priority", "10")), cancellationToken: ct),
            "background-priority-5" => t.SendAsync(configure: Headers(("apns-push-type", "background"), ("apns-priority", "5")), cancellationToken: ct),
            "expiration-not-integer" => t.SendAsync(configure: Header("apns-expiration", "tomorrow"), cancellationToken: ct),
            "expiration-zero" => t.SendAsync(configure: Header("apns-expiration", "0"), cancellationToken: ct),
            "voip-without-voip-topic" => t.SendAsync(configure: Header("apns-push-type", "voip"), cancellationToken: ct),
            "liveactivity-without-suffix" => t.SendAsync(configure: Header("apns-push-type", "liveactivity"), cancellationToken: ct),
            "liveactivity-with-suffix" => t.SendAsync(topic: ApnsTestContext.Topic + ".push-type.liveactivity", configure: Header("apns-push-type", "liveactivity"), cancellationToken: ct),
            "widgets-push-type" => t.SendAsync(topic: ApnsTestContext.Topic + ".push-type.widgets", configure: Header("apns-push-type", "widgets"), cancellationToken: ct),
            "odd-length-token" => t.SendAsync(token: "abc", cancellationToken: ct),
            "non-hex-token" => t.SendAsync(token: "zz" + ApnsTestContext.Token[2..], cancellationToken: ct),
            "two-hex-char-token" => t.SendAsync(token: "0f", cancellationToken: ct),
            "upper-case-hex-token" => t.SendAsync(token: ApnsTestContext.Token.ToUpperInvariant(), cancellationToken: ct),
            "empty-body" => t.SendAsync(body: "", cancellationToken: ct),
            "body-4096-bytes" => t.SendAsync(body: PayloadOfSize(4096), cancellationToken: ct),
            "body-4097-bytes" => t.SendAsync(body: PayloadOfSize(4097), cancellationToken: ct),
            "voip-body-5120-bytes" => t.SendAsync(topic: voipTopic, body: PayloadOfSize(5120), configure: Header("apns-push-type", "voip"), cancellationToken: ct),
            "voip-body-5121-bytes" => t.SendAsync(topic: voipTopic, body: PayloadOfSize(5121), configure: Header("apns-push-type", "voip"), cancellationToken: ct),
            "body-not-json" => t.SendAsync(body: "hello", cancellationToken: ct),
            "body-json-array" => t.SendAsync(body: "[1,2]", cancellationToken: ct),
            "body-trailing-garbage" => t.SendAsync(body: """{"aps":{}} x""", cancellationToken: ct),
            "order-method-before-path" => Send(t, ct, method: HttpMethod.Put, path: "nowhere"),
            "order-apns-id-before-auth" => t.SendAsync(noAuth: true, configure: Header("apns-id", "nope"), cancellationToken: ct),
            "order-auth-before-topic" => t.SendAsync(noAuth: true, topic: null, cancellationToken: ct),
            "order-topic-before-priority" => t.SendAsync(topic: null, configure: Header("apns-priority", "7"), cancellationToken: ct),
            "order-priority-before-token" => t.SendAsync(token: "xyz", configure: Header("apns-priority", "7"), cancellationToken: ct),
            "order-token-before-payload" => t.SendAsync(token: "xyz", body: "", cancellationToken: ct),
            _ => throw new ArgumentOutOfRangeException(nameof(@case), @case, null),
        };
    }

    /// <summary>A JSON object of exactly <paramref name="size"/> bytes.</summary>
    internal static string PayloadOfSize(int size)
    {
        const string prefix = "{\"aps\":{\"alert\":\"hi\"},\"pad\":\"";
        const string suffix = "\"}";
        var payload = prefix + new string('x', size - prefix.Length - suffix.Length) + suffix;
        Assert.Equal(size, Encoding.UTF8.GetByteCount(payload));
        return payload;
    }

    private static Action<HttpRequestMessage> Header(string name, string value) => r => r.Headers.TryAddWithoutValidation(name, value);

    private static Action<HttpRequestMessage> Headers(params (string Name, string Value)[] headers) => r =>
    {
        foreach (var (name, value) in headers)
        {
            r.Headers.TryAddWithoutValidation(name, value);
        }
    };

    private static Task<ApnsReply> Send(ApnsTestContext t, CancellationToken ct, HttpMethod? method = null, string? path = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Post, new Uri(t.Sim.ApnsProductionUrl, path ?? "3/device/" + ApnsTestContext.Token))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        if (request.Method != HttpMethod.Get)
        {
            request.Content = new StringContent("""{"aps":{}}""");
        }

        request.Headers.Authorization = new AuthenticationHeaderValue("bearer", t.Jwt());
        request.Headers.TryAddWithoutValidation("apns-topic", ApnsTestContext.Topic);
        return ApnsReply.SendAsync(t.Client, request, ct);
    }
}
