using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using PushGateway.Simulator.Security;

namespace PushGateway.Simulator.Apns;

/// <summary>
/// Plays APNs <c>POST /3/device/{token}</c>: the contract's checks in order, then token behaviours, then 200.
/// Hot path: no logging, no LINQ, one verification per (connection, JWT).
/// </summary>
internal sealed class ApnsHandler(SimulatorState state, AnswerTiming timing)
{
    private const string DevicePathPrefix = "/3/device/";
    private const int MaxPayload = 4096;
    private const int MaxVoipPayload = 5120;
    private const long MaxTokenAgeSeconds = 3600;

    /// <summary>How far in the future an <c>iat</c> may be (clock skew) before the JWT is invalid.</summary>
    private const long MaxFutureSkewSeconds = 300;

    private static readonly ConcurrentDictionary<string, byte[]> ReasonBodies = new(StringComparer.Ordinal);

    private static readonly string[] TopicSuffixes =
    [
        ".voip", ".complication", ".pushkit.fileprovider", ".push-type.liveactivity", ".location-query", ".voip-ptt",
        ".push-type.widgets", ".push-type.controls",
    ];

    public async Task HandleAsync(HttpContext context, ApnsConnection connection)
    {
        var counters = state.Counters;
        var settings = state.Settings;
        Interlocked.Increment(ref counters.ApnsRequests);
        counters.ObserveConcurrentStreams(Interlocked.Increment(ref connection.InFlight));
        var sequence = Interlocked.Increment(ref connection.Requests);
        try
        {
            var exchange = new ApnsExchange();
            var outcome = CheckRequest(context, connection, settings, exchange);
            if (!outcome.IsDecided)
            {
                outcome = await ReadPayloadAsync(context.Request.BodyReader, settings.RecordRequests, exchange, context.RequestAborted);
            }

            if (!outcome.IsDecided)
            {
                outcome = Decide(settings, exchange);
            }

            Count(counters, outcome);
            if (settings.RecordRequests)
            {
                Record(connection, exchange, outcome);
            }

            await DelayAsync(settings, outcome, context.RequestAborted);
            await AnswerAsync(context, connection, exchange, outcome);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested || timing.Stopping.IsCancellationRequested)
        {
            // The client reset the stream or the simulator is stopping: nobody is waiting for an answer.
        }
        finally
        {
            Interlocked.Decrement(ref connection.InFlight);
            var every = settings.GoAwayEveryStreams;
            if (every > 0 && sequence >= every && connection.RequestGoAway())
            {
                Interlocked.Increment(ref counters.ApnsGoAwaysSent);
            }
        }
    }

    /// <summary>Checks 1 to 6 of the contract (method/path, headers, authentication, topic, header values, token).</summary>
    private ApnsOutcome CheckRequest(HttpContext context, ApnsConnection connection, SimulatorSettings settings, ApnsExchange x)
    {
        var request = context.Request;

        // 1. method and path
        if (!HttpMethods.IsPost(request.Method))
        {
            return ApnsOutcome.Reject(405, ApnsReasons.MethodNotAllowed);
        }

        var path = request.Path.Value;
        if (path is null || !path.StartsWith(DevicePathPrefix, StringComparison.Ordinal))
        {
            return ApnsOutcome.Reject(404, ApnsReasons.BadPath);
        }

        if (path.Length == DevicePathPrefix.Length)
        {
            return ApnsOutcome.Reject(400, ApnsReasons.MissingDeviceToken);
        }

        if (path.IndexOf('/', DevicePathPrefix.Length) >= 0)
        {
            return ApnsOutcome.Reject(404, ApnsReasons.BadPath);
        }

        x.Token = path[DevicePathPrefix.Length..];

        // 2. repeated headers and apns-id
        string? authorization = null;
        foreach (var header in request.Headers)
        {
            if (header.Value.Count > 1)
            {
                return ApnsOutcome.Reject(400, ApnsReasons.DuplicateHeaders);
            }

            var name = header.Key;
            if (name.StartsWith("apns-", StringComparison.OrdinalIgnoreCase))
            {
                x.SetApnsHeader(name, header.Value.ToString());
            }
            else if (string.Equals(name, "authorization", StringComparison.OrdinalIgnoreCase))
            {
                authorization = header.Value.ToString();
            }
        }

        if (x.ApnsId is not null && !IsCanonicalUuid(x.ApnsId))
        {
            return ApnsOutcome.Reject(400, ApnsReasons.BadMessageId);
        }

        // 3. authentication
        HashSet<string>? keyTopics = null;
        string? certificateBundle = null;
        var tokenAuth = false;
        if (TryGetBearer(authorization, out var jwt))
        {
            var auth = CheckProviderToken(jwt, connection, settings, out var key);
            if (auth.IsDecided)
            {
                return auth;
            }

            tokenAuth = true;
            keyTopics = key!.Topics;
        }
        else
        {
            var thumbprint = ClientCertificateThumbprint(context, connection);
            if (thumbprint.Length == 0)
            {
                return ApnsOutcome.Reject(403, ApnsReasons.MissingProviderToken);
            }

            var registration = state.FindCertificate(thumbprint);
            if (registration is null)
            {
                return ApnsOutcome.Reject(403, ApnsReasons.BadCertificate);
            }

            if (registration.Environment != ApnsEnvironment.Both && registration.Environment != connection.Environment)
            {
                return ApnsOutcome.Reject(403, ApnsReasons.BadCertificateEnvironment);
            }

            certificateBundle = registration.BundleId;
            x.Topic ??= certificateBundle;
        }

        // 4. topic
        var topic = x.Topic;
        if (string.IsNullOrEmpty(topic))
        {
            return ApnsOutcome.Reject(400, ApnsReasons.MissingTopic);
        }

        if (tokenAuth ? keyTopics is not null && !KeyAllowsTopic(keyTopics, topic) : !CertificateAllowsTopic(certificateBundle!, topic))
        {
            return ApnsOutcome.Reject(400, ApnsReasons.TopicDisallowed);
        }

        // 5. header values
        if (x.CollapseId is not null && Encoding.UTF8.GetByteCount(x.CollapseId) > 64)
        {
            return ApnsOutcome.Reject(400, ApnsReasons.BadCollapseId);
        }

        if (x.Priority is not null && x.Priority is not ("10" or "5" or "1"))
        {
            return ApnsOutcome.Reject(400, ApnsReasons.BadPriority);
        }

        if (x.PushType is not null && !IsKnownPushType(x.PushType))
        {
            return ApnsOutcome.Reject(400, ApnsReasons.InvalidPushType);
        }

        if (x.PushType == "background" && x.Priority == "10")
        {
            return ApnsOutcome.Reject(400, ApnsReasons.BadPriority);
        }

        if (x.Expiration is not null && !long.TryParse(x.Expiration, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            return ApnsOutcome.Reject(400, ApnsReasons.BadExpirationDate);
        }

        if ((x.PushType == "voip" && !topic.EndsWith(".voip", StringComparison.Ordinal))
            || (x.PushType == "liveactivity" && !topic.EndsWith(".push-type.liveactivity", StringComparison.Ordinal)))
        {
            return ApnsOutcome.Reject(400, ApnsReasons.BadTopic);
        }

        // 6. device token
        if (!IsEvenHex(x.Token))
        {
            return ApnsOutcome.Reject(400, ApnsReasons.BadDeviceToken);
        }

        var entry = state.FindBehavior(x.Token);
        if (entry is not null)
        {
            var behavior = entry.Behavior;
            if (behavior.Environment is ApnsEnvironment.Production or ApnsEnvironment.Sandbox
                && behavior.Environment != connection.Environment
                && state.TryUseBehavior(x.Token, entry))
            {
                return new ApnsOutcome(400, ApnsReasons.BadDeviceToken, RetryAfter: behavior.RetryAfter);
            }

            if (behavior.Topic is not null && !string.Equals(behavior.Topic, topic, StringComparison.Ordinal)
                && state.TryUseBehavior(x.Token, entry))
            {
                return new ApnsOutcome(400, ApnsReasons.DeviceTokenNotForTopic, RetryAfter: behavior.RetryAfter);
            }

            x.Behavior = entry;
        }

        return default;
    }

    /// <summary>Token authentication (contract 3): verification cached per (connection, JWT), then time, environment, team and update rules.</summary>
    private ApnsOutcome CheckProviderToken(ReadOnlySpan<char> jwt, ApnsConnection connection, SimulatorSettings settings, out ApnsKey? key)
    {
        key = null;
        var verified = connection.LastVerified;
        if (verified is null || !jwt.SequenceEqual(verified.Jwt) || !state.IsCurrent(verified.Key))
        {
            verified = Verify(jwt.ToString());
            if (verified is null)
            {
                return ApnsOutcome.Reject(403, ApnsReasons.InvalidProviderToken);
            }

            connection.LastVerified = verified;
        }

        var now = state.Time.GetUtcNow();
        var nowSeconds = now.ToUnixTimeSeconds();
        if (nowSeconds - verified.IssuedAt > MaxTokenAgeSeconds)
        {
            return ApnsOutcome.Reject(403, ApnsReasons.ExpiredProviderToken);
        }

        if (verified.IssuedAt - nowSeconds > MaxFutureSkewSeconds)
        {
            return ApnsOutcome.Reject(403, ApnsReasons.InvalidProviderToken);
        }

        if (verified.Key.Environment != ApnsEnvironment.Both && verified.Key.Environment != connection.Environment)
        {
            return ApnsOutcome.Reject(403, settings.BadEnvironmentKeySpelling);
        }

        key = verified.Key;
        var current = connection.CurrentJwt;
        if (current is not null && ReferenceEquals(current, verified.Jwt))
        {
            // Same JWT as the one in use: the team is pinned to it already.
            return default;
        }

        lock (connection.AuthLock)
        {
            if (connection.PinnedTeam is null)
            {
                connection.PinnedTeam = key.TeamId;
            }
            else if (!string.Equals(connection.PinnedTeam, key.TeamId, StringComparison.Ordinal))
            {
                return ApnsOutcome.Reject(403, ApnsReasons.InvalidProviderToken);
            }

            current = connection.CurrentJwt;
            if (current is null)
            {
                connection.CurrentJwtSince = now;
                connection.CurrentJwt = verified.Jwt;
            }
            else if (!string.Equals(current, verified.Jwt, StringComparison.Ordinal))
            {
                var minimum = TimeSpan.FromSeconds(settings.TokenUpdateMinIntervalSeconds);
                if (now - connection.CurrentJwtSince < minimum)
                {
                    return ApnsOutcome.Reject(429, ApnsReasons.TooManyProviderTokenUpdates);
                }

                connection.CurrentJwtSince = now;
                connection.CurrentJwt = verified.Jwt;
            }
        }

        return default;
    }

    private VerifiedJwt? Verify(string jwt)
    {
        var parsed = CompactJwt.TryParse(jwt);
        if (parsed is null || parsed.Algorithm != "ES256" || parsed.KeyId is not { } keyId)
        {
            return null;
        }

        var key = state.FindApnsKey(keyId);
        if (key is null
            || !string.Equals(parsed.GetClaimString("iss"), key.TeamId, StringComparison.Ordinal)
            || parsed.GetClaimSeconds("iat") is not { } issuedAt
            || !key.Verify(parsed))
        {
            return null;
        }

        return new VerifiedJwt(jwt, key, issuedAt);
    }

    /// <summary>7. payload: empty, too large (4096, 5120 for VoIP), not a JSON object.</summary>
    private static async ValueTask<ApnsOutcome> ReadPayloadAsync(PipeReader reader, bool keep, ApnsExchange x, CancellationToken cancellationToken)
    {
        var limit = x.PushType == "voip" ? MaxVoipPayload : MaxPayload;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.End);
                return ApnsOutcome.Reject(413, ApnsReasons.PayloadTooLarge);
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                var outcome = buffer.Length == 0 ? ApnsOutcome.Reject(400, ApnsReasons.PayloadEmpty) : CheckJson(buffer, keep, x);
                reader.AdvanceTo(buffer.End);
                return outcome;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static ApnsOutcome CheckJson(ReadOnlySequence<byte> body, bool keep, ApnsExchange x)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return ApnsOutcome.Reject(400, ApnsReasons.BadPayload);
            }

            reader.Skip();
            if (reader.Read())
            {
                return ApnsOutcome.Reject(400, ApnsReasons.BadPayload);
            }
        }
        catch (JsonException)
        {
            return ApnsOutcome.Reject(400, ApnsReasons.BadPayload);
        }

        if (keep)
        {
            x.RawBody = body.ToArray();
        }

        return default;
    }

    /// <summary>8. token behaviour, then the random failure rate, then 200.</summary>
    private ApnsOutcome Decide(SimulatorSettings settings, ApnsExchange x)
    {
        var entry = x.Behavior;
        if (entry is not null)
        {
            var behavior = entry.Behavior;
            if ((behavior.Apns is not null || behavior.Preset is not null) && state.TryUseBehavior(x.Token!, entry))
            {
                var timestamp = behavior.Timestamp ?? state.Time.GetUtcNow().ToUnixTimeMilliseconds();
                if (behavior.Apns is { } explicitAnswer)
                {
                    var status = explicitAnswer.Status == 0 ? 200 : explicitAnswer.Status;
                    return status == 200
                        ? ApnsOutcome.Accepted
                        : new ApnsOutcome(
                            status,
                            explicitAnswer.Reason ?? ApnsReasons.InternalServerError,
                            status == 410 ? explicitAnswer.Timestamp ?? timestamp : explicitAnswer.Timestamp,
                            behavior.RetryAfter);
                }

                var preset = ApnsOutcome.FromPreset(behavior.Preset!, timestamp, behavior.RetryAfter);
                if (preset.IsDecided)
                {
                    return preset;
                }
            }
        }

        if (settings.FailureRate > 0 && Random.Shared.NextDouble() < settings.FailureRate)
        {
            return ApnsOutcome.Reject(503, ApnsReasons.ServiceUnavailable);
        }

        return ApnsOutcome.Accepted;
    }

    private async Task AnswerAsync(HttpContext context, ApnsConnection connection, ApnsExchange x, ApnsOutcome outcome)
    {
        switch (outcome.Action)
        {
            case AnswerAction.Reset:
                AnswerTiming.Reset(context);
                return;
            case AnswerAction.Hang:
                await timing.HangAsync(context);
                return;
        }

        var response = context.Response;
        response.StatusCode = outcome.Status;
        response.Headers["apns-id"] = x.ApnsId is not null && outcome.Reason != ApnsReasons.BadMessageId
            ? x.ApnsId
            : Guid.NewGuid().ToString();
        if (outcome.RetryAfter is { } retryAfter)
        {
            response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        }

        if (outcome.Status == 200)
        {
            if (connection.Environment == ApnsEnvironment.Sandbox)
            {
                response.Headers["apns-unique-id"] = Guid.NewGuid().ToString();
            }
        }
        else
        {
            var body = outcome.Timestamp is { } timestamp ? ReasonBody(outcome.Reason!, timestamp) : ReasonBody(outcome.Reason!);
            response.ContentType = "application/json";
            response.ContentLength = body.Length;
            await response.Body.WriteAsync(body, context.RequestAborted);
        }

        if (outcome.GoAway)
        {
            // Answer first, then GOAWAY: the Shutdown answer must reach the client.
            await response.CompleteAsync();
            if (connection.RequestGoAway())
            {
                Interlocked.Increment(ref state.Counters.ApnsGoAwaysSent);
            }
        }
    }

    private static Task DelayAsync(SimulatorSettings settings, ApnsOutcome outcome, CancellationToken cancellationToken) =>
        outcome.Action == AnswerAction.Respond ? AnswerTiming.DelayAsync(settings, cancellationToken) : Task.CompletedTask;

    private static void Count(CounterSet counters, ApnsOutcome outcome)
    {
        if (outcome.Action != AnswerAction.Respond)
        {
            CounterSet.Increment(counters.ApnsByReason, outcome.Reason!);
        }
        else if (outcome.Status == 200)
        {
            Interlocked.Increment(ref counters.ApnsAccepted);
        }
        else
        {
            Interlocked.Increment(ref counters.ApnsRejected);
            CounterSet.Increment(counters.ApnsByReason, outcome.Reason!);
        }
    }

    private void Record(ApnsConnection connection, ApnsExchange x, ApnsOutcome outcome) => state.Record(new ReceivedRequest
    {
        Platform = "apns",
        Environment = connection.Environment == ApnsEnvironment.Sandbox ? "sandbox" : "production",
        Token = x.Token,
        Topic = x.Topic,
        Headers = x.RecordedHeaders(),
        RawBody = x.RawBody,
        Status = outcome.Action == AnswerAction.Respond ? outcome.Status : 0,
        Reason = outcome.Reason,
        ReceivedAt = state.Time.GetUtcNow(),
    });

    private static byte[] ReasonBody(string reason) =>
        ReasonBodies.TryGetValue(reason, out var body) ? body : ReasonBodies.GetOrAdd(reason, static r => ReasonBody(r, null));

    private static byte[] ReasonBody(string reason, long? timestamp)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("reason", reason);
            if (timestamp is { } value)
            {
                writer.WriteNumber("timestamp", value);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static bool TryGetBearer(string? authorization, out ReadOnlySpan<char> jwt)
    {
        jwt = default;
        if (authorization is null || authorization.Length <= 7 || !authorization.AsSpan(0, 7).Equals("bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        jwt = authorization.AsSpan(7).Trim();
        return jwt.Length > 0;
    }

    private static string ClientCertificateThumbprint(HttpContext context, ApnsConnection connection)
    {
        var thumbprint = connection.ClientCertificateThumbprint;
        if (thumbprint is null)
        {
            // The certificate of a connection never changes: hash it once.
            thumbprint = context.Connection.ClientCertificate?.Thumbprint ?? string.Empty;
            connection.ClientCertificateThumbprint = thumbprint;
        }

        return thumbprint;
    }

    private static bool KeyAllowsTopic(HashSet<string> topics, string topic)
    {
        if (topics.Contains(topic))
        {
            return true;
        }

        foreach (var suffix in TopicSuffixes)
        {
            if (topic.Length > suffix.Length && topic.EndsWith(suffix, StringComparison.Ordinal)
                && topics.Contains(topic[..^suffix.Length]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A certificate covers its bundle id plus the VoIP and complication topics (protocols.md 1.4).</summary>
    private static bool CertificateAllowsTopic(string bundleId, string topic) =>
        topic == bundleId
        || (topic.Length == bundleId.Length + 5 && topic.StartsWith(bundleId, StringComparison.Ordinal) && topic.EndsWith(".voip", StringComparison.Ordinal))
        || (topic.Length == bundleId.Length + 13 && topic.StartsWith(bundleId, StringComparison.Ordinal) && topic.EndsWith(".complication", StringComparison.Ordinal));

    private static bool IsKnownPushType(string pushType) => pushType is "alert" or "background" or "voip" or "complication"
        or "fileprovider" or "mdm" or "location" or "liveactivity" or "pushtotalk" or "widgets" or "controls";

    /// <summary>A canonical lower-case UUID, 8-4-4-4-12.</summary>
    internal static bool IsCanonicalUuid(string value)
    {
        if (value.Length != 36)
        {
            return false;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (i is 8 or 13 or 18 or 23)
            {
                if (c != '-')
                {
                    return false;
                }
            }
            else if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsEvenHex(string token)
    {
        if (token.Length == 0 || token.Length % 2 != 0)
        {
            return false;
        }

        foreach (var c in token)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>What one APNs request carried, gathered while checking it.</summary>
internal sealed class ApnsExchange
{
    public string? Token;
    public string? ApnsId;
    public string? Topic;
    public string? TopicHeader;
    public string? PushType;
    public string? Priority;
    public string? Expiration;
    public string? CollapseId;
    public byte[]? RawBody;
    public BehaviorEntry? Behavior;

    public void SetApnsHeader(string name, string value)
    {
        if (name.Equals("apns-id", StringComparison.OrdinalIgnoreCase))
        {
            ApnsId = value;
        }
        else if (name.Equals("apns-topic", StringComparison.OrdinalIgnoreCase))
        {
            Topic = value;
            TopicHeader = value;
        }
        else if (name.Equals("apns-push-type", StringComparison.OrdinalIgnoreCase))
        {
            PushType = value;
        }
        else if (name.Equals("apns-priority", StringComparison.OrdinalIgnoreCase))
        {
            Priority = value;
        }
        else if (name.Equals("apns-expiration", StringComparison.OrdinalIgnoreCase))
        {
            Expiration = value;
        }
        else if (name.Equals("apns-collapse-id", StringComparison.OrdinalIgnoreCase))
        {
            CollapseId = value;
        }
    }

    public Dictionary<string, string> RecordedHeaders()
    {
        var headers = new Dictionary<string, string>(6, StringComparer.Ordinal);
        Add(headers, "apns-topic", TopicHeader);
        Add(headers, "apns-push-type", PushType);
        Add(headers, "apns-priority", Priority);
        Add(headers, "apns-expiration", Expiration);
        Add(headers, "apns-collapse-id", CollapseId);
        Add(headers, "apns-id", ApnsId);
        return headers;

        static void Add(Dictionary<string, string> headers, string name, string? value)
        {
            if (value is not null)
            {
                headers[name] = value;
            }
        }
    }
}
