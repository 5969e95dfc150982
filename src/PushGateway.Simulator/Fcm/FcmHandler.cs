using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using PushGateway.Simulator.Apns;
using PushGateway.Simulator.Security;

namespace PushGateway.Simulator.Fcm;

/// <summary>Plays FCM HTTP v1 <c>messages:send</c> and Google's OAuth token endpoint (<c>POST /token</c>).</summary>
internal sealed partial class FcmHandler(SimulatorState state, AnswerTiming timing)
{
    private const string JwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    private const string MessagingScope = "https://www.googleapis.com/auth/firebase.messaging";
    private const string CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";
    private const int MaxMessageBytes = 4096;
    private const int MaxTopicMessageBytes = 2048;
    private const double MaxTtlSeconds = 2_419_200;

    public Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        if (path == "/token")
        {
            return HttpMethods.IsPost(context.Request.Method)
                ? TokenAsync(context)
                : WriteJsonAsync(context, 405, OAuthError("invalid_request", "The token endpoint only accepts POST."));
        }

        if (TryGetProjectId(path, out var projectId))
        {
            return HttpMethods.IsPost(context.Request.Method)
                ? SendAsync(context, projectId)
                : WriteFcmErrorAsync(context, new FcmOutcome(405, "INVALID_ARGUMENT", "Method not allowed: use POST."), projectId);
        }

        return WriteFcmErrorAsync(context, new FcmOutcome(404, "NOT_FOUND", "Requested entity was not found."), string.Empty);
    }

    private async Task TokenAsync(HttpContext context)
    {
        var counters = state.Counters;
        Interlocked.Increment(ref counters.FcmTokenRequests);
        if (!context.Request.HasFormContentType)
        {
            await WriteJsonAsync(context, 400, OAuthError("invalid_request", "Expected application/x-www-form-urlencoded."));
            return;
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (form["grant_type"] != JwtBearerGrant)
        {
            await WriteJsonAsync(context, 400, OAuthError("unsupported_grant_type", "Invalid grant_type: " + form["grant_type"]));
            return;
        }

        var (account, problem) = CheckAssertion(form["assertion"].ToString());
        if (account is null)
        {
            await WriteJsonAsync(context, 400, OAuthError("invalid_grant", problem!));
            return;
        }

        var lifetime = state.Settings.FcmAccessTokenLifetimeSeconds;
        var accessToken = state.IssueAccessToken(account, TimeSpan.FromSeconds(lifetime));
        Interlocked.Increment(ref counters.FcmTokensIssued);
        await WriteJsonAsync(context, 200, new Dictionary<string, object>
        {
            ["access_token"] = accessToken,
            ["expires_in"] = lifetime,
            ["token_type"] = "Bearer",
        });
    }

    /// <summary>The RS256 JWT-bearer assertion of a registered service account, checked as Google documents it.</summary>
    private (FcmServiceAccount? Account, string? Problem) CheckAssertion(string assertion)
    {
        if (string.IsNullOrEmpty(assertion))
        {
            return (null, "Missing required parameter: assertion");
        }

        var jwt = CompactJwt.TryParse(assertion);
        if (jwt is null)
        {
            return (null, "Invalid JWT: the assertion is not a compact JWS.");
        }

        if (jwt.Algorithm != "RS256")
        {
            return (null, "Invalid JWT: only RS256 is accepted.");
        }

        var issuer = jwt.GetClaimString("iss");
        var account = issuer is null ? null : state.FindServiceAccount(issuer);
        if (account is null)
        {
            return (null, "Invalid JWT: unknown issuer (no such service account).");
        }

        if (!account.Verify(jwt))
        {
            return (null, "Invalid JWT Signature.");
        }

        var audience = jwt.GetClaimString("aud");
        if (audience is null || !audience.EndsWith("/token", StringComparison.Ordinal))
        {
            return (null, "Invalid JWT: the audience must be the token URL.");
        }

        var scopes = jwt.GetClaimString("scope")?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
        if (!scopes.Contains(MessagingScope) && !scopes.Contains(CloudPlatformScope))
        {
            return (null, "Invalid JWT: scope must include firebase.messaging or cloud-platform.");
        }

        var issuedAt = jwt.GetClaimSeconds("iat");
        var expires = jwt.GetClaimSeconds("exp");
        if (issuedAt is null || expires is null)
        {
            return (null, "Invalid JWT: iat and exp are required.");
        }

        var now = state.Time.GetUtcNow().ToUnixTimeSeconds();
        if (expires <= issuedAt || expires - issuedAt > 3600)
        {
            return (null, "Invalid JWT: exp must be after iat and at most one hour later.");
        }

        if (expires <= now)
        {
            return (null, "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.");
        }

        if (issuedAt > now + 300)
        {
            return (null, "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.");
        }

        return (account, null);
    }

    private async Task SendAsync(HttpContext context, string projectId)
    {
        var counters = state.Counters;
        var settings = state.Settings;
        Interlocked.Increment(ref counters.FcmRequests);
        var x = new FcmExchange();
        FcmOutcome outcome;
        try
        {
            outcome = CheckAuthorization(context, projectId);
            if (!outcome.IsDecided)
            {
                outcome = await CheckMessageAsync(context, settings.RecordRequests, x);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        if (!outcome.IsDecided)
        {
            outcome = Decide(settings, x);
        }

        if (outcome.Action != AnswerAction.Respond || outcome.Status != 200)
        {
            if (outcome.Action == AnswerAction.Respond)
            {
                Interlocked.Increment(ref counters.FcmRejected);
            }

            CounterSet.Increment(counters.FcmByErrorCode, outcome.Reason!);
        }
        else if (!x.ValidateOnly)
        {
            Interlocked.Increment(ref counters.FcmAccepted);
        }

        if (settings.RecordRequests)
        {
            state.Record(new ReceivedRequest
            {
                Platform = "fcm",
                Token = x.Token,
                Topic = x.Topic,
                Body = x.Body,
                Status = outcome.Action == AnswerAction.Respond ? outcome.Status : 0,
                Reason = outcome.Reason,
                ReceivedAt = state.Time.GetUtcNow(),
            });
        }

        try
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

            await AnswerTiming.DelayAsync(settings, context.RequestAborted);
            if (outcome.Status == 200)
            {
                var id = x.ValidateOnly ? "fake_message_id" : "0:" + RandomNumberGenerator.GetHexString(16, lowercase: true);
                await WriteJsonAsync(context, 200, new Dictionary<string, string> { ["name"] = $"projects/{projectId}/messages/{id}" });
            }
            else
            {
                await WriteFcmErrorAsync(context, outcome, projectId);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client gave up on this request.
        }
    }

    private FcmOutcome CheckAuthorization(HttpContext context, string projectId)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.Length <= 7 || !authorization.AsSpan(0, 7).Equals("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return FcmOutcome.Unauthenticated();
        }

        var grant = state.FindAccessToken(authorization[7..].Trim());
        if (grant is null || grant.ExpiresAt <= state.Time.GetUtcNow())
        {
            return FcmOutcome.Unauthenticated();
        }

        return string.Equals(grant.ProjectId, projectId, StringComparison.Ordinal) ? default : FcmOutcome.PermissionDenied(projectId);
    }

    /// <summary>Body validation of the contract: target, data, android, apns headers, size, token format.</summary>
    private static async Task<FcmOutcome> CheckMessageAsync(HttpContext context, bool keep, FcmExchange x)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException ex)
        {
            return FcmOutcome.BadField(string.Empty, "Invalid JSON payload received. " + ex.Message);
        }

        using (document)
        {
            var root = document.RootElement;
            if (keep)
            {
                x.Body = root.Clone();
            }

            if (root.ValueKind != JsonValueKind.Object)
            {
                return FcmOutcome.BadField(string.Empty, "Invalid JSON payload received. Expected an object.");
            }

            if (root.TryGetProperty("validate_only", out var validateOnly))
            {
                if (validateOnly.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    return FcmOutcome.BadField("validate_only", $"Invalid value at 'validate_only' (TYPE_BOOL), {validateOnly.GetRawText()}");
                }

                x.ValidateOnly = validateOnly.ValueKind == JsonValueKind.True;
            }

            if (!root.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object)
            {
                return FcmOutcome.BadField("message", "Request contains an invalid argument: message is required.");
            }

            return CheckMessage(message, x);
        }
    }

    private static FcmOutcome CheckMessage(JsonElement message, FcmExchange x)
    {
        var targets = 0;
        var targetBytes = 0;
        foreach (var name in (ReadOnlySpan<string>)["token", "topic", "condition"])
        {
            if (!message.TryGetProperty(name, out var target))
            {
                continue;
            }

            if (target.ValueKind != JsonValueKind.String)
            {
                return FcmOutcome.BadField("message." + name, $"Invalid value at 'message.{name}' (TYPE_STRING), {target.GetRawText()}");
            }

            targets++;
            // "name": value plus its comma separator.
            targetBytes += name.Length + 4 + JsonMarshal.GetRawUtf8Value(target).Length;
            switch (name)
            {
                case "token":
                    x.Token = target.GetString();
                    break;
                case "topic":
                    x.Topic = target.GetString();
                    break;
            }
        }

        if (targets == 0)
        {
            return FcmOutcome.BadField("message", "Recipient of the message is not set.");
        }

        if (targets > 1)
        {
            return FcmOutcome.BadField("message", "Exactly one of token, topic or condition must be set.");
        }

        if (x.Topic is not null && !TopicPattern().IsMatch(x.Topic))
        {
            return FcmOutcome.BadField("message.topic", "Invalid topic name: " + x.Topic);
        }

        if (message.TryGetProperty("data", out var data))
        {
            var problem = CheckStringMap(data, "message.data", checkReserved: true);
            if (problem.IsDecided)
            {
                return problem;
            }
        }

        if (message.TryGetProperty("android", out var android))
        {
            var problem = CheckAndroid(android);
            if (problem.IsDecided)
            {
                return problem;
            }
        }

        if (message.TryGetProperty("apns", out var apns) && apns.ValueKind == JsonValueKind.Object
            && apns.TryGetProperty("headers", out var apnsHeaders))
        {
            var problem = CheckStringMap(apnsHeaders, "message.apns.headers", checkReserved: false);
            if (problem.IsDecided)
            {
                return problem;
            }
        }

        // Size counts the message without its target (Google counts the payload, not the address).
        var size = JsonMarshal.GetRawUtf8Value(message).Length - targetBytes;
        if (size > (x.Topic is null ? MaxMessageBytes : MaxTopicMessageBytes))
        {
            return FcmOutcome.TooBig();
        }

        if (x.Token is not null && !TokenPattern().IsMatch(x.Token))
        {
            return FcmOutcome.InvalidToken();
        }

        return default;
    }

    private static FcmOutcome CheckAndroid(JsonElement android)
    {
        if (android.ValueKind != JsonValueKind.Object)
        {
            return FcmOutcome.BadField("message.android", $"Invalid value at 'message.android' (type.googleapis.com/google.firebase.fcm.v1.AndroidConfig), {android.GetRawText()}");
        }

        if (android.TryGetProperty("ttl", out var ttl))
        {
            var text = ttl.ValueKind == JsonValueKind.String ? ttl.GetString()! : null;
            var match = text is null ? Match.Empty : DurationPattern().Match(text);
            if (!match.Success)
            {
                return FcmOutcome.BadField("message.android.ttl", $"Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration), {ttl.GetRawText()}");
            }

            var seconds = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            if (seconds > MaxTtlSeconds)
            {
                return FcmOutcome.BadField("message.android.ttl", "The TTL must be between 0 and 2419200 seconds (4 weeks).");
            }
        }

        if (android.TryGetProperty("priority", out var priority)
            && (priority.ValueKind != JsonValueKind.String
                || !(priority.ValueEquals("normal") || priority.ValueEquals("high") || priority.ValueEquals("NORMAL") || priority.ValueEquals("HIGH"))))
        {
            return FcmOutcome.BadField("message.android.priority", $"Invalid value at 'message.android.priority' (type.googleapis.com/google.firebase.fcm.v1.AndroidConfig.AndroidMessagePriority), {priority.GetRawText()}");
        }

        if (android.TryGetProperty("data", out var data))
        {
            return CheckStringMap(data, "message.android.data", checkReserved: false);
        }

        return default;
    }

    /// <summary>A <c>map&lt;string,string&gt;</c>: every value a string; for <c>data</c> no reserved key.</summary>
    private static FcmOutcome CheckStringMap(JsonElement map, string field, bool checkReserved)
    {
        if (map.ValueKind != JsonValueKind.Object)
        {
            return FcmOutcome.BadField(field, $"Invalid value at '{field}' (type.googleapis.com/google.protobuf.Struct), {map.GetRawText()}");
        }

        var index = 0;
        foreach (var property in map.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.String)
            {
                var at = $"{field}[{index}].value";
                return FcmOutcome.BadField(at, $"Invalid value at '{at}' (TYPE_STRING), {property.Value.GetRawText()}");
            }

            if (checkReserved && IsReservedDataKey(property.Name))
            {
                return FcmOutcome.BadField($"{field}[{index}].key", "Invalid data payload key: " + property.Name);
            }

            index++;
        }

        return default;
    }

    private static bool IsReservedDataKey(string key) =>
        key is "from" or "message_type" || key.StartsWith("google.", StringComparison.Ordinal) || key.StartsWith("gcm.", StringComparison.Ordinal);

    private FcmOutcome Decide(SimulatorSettings settings, FcmExchange x)
    {
        if (x.Token is not null && state.FindBehavior(x.Token) is { } entry
            && (entry.Behavior.Fcm is not null || entry.Behavior.Preset is not null)
            && state.TryUseBehavior(x.Token, entry))
        {
            var behavior = entry.Behavior;
            var answer = behavior.Fcm is { } explicitAnswer
                ? FcmOutcome.FromAnswer(explicitAnswer, behavior.RetryAfter)
                : FcmOutcome.FromPreset(behavior.Preset!, behavior.RetryAfter);
            if (answer.IsDecided)
            {
                return answer;
            }
        }

        if (settings.FailureRate > 0 && Random.Shared.NextDouble() < settings.FailureRate)
        {
            return FcmOutcome.Unavailable(1);
        }

        return FcmOutcome.Accepted;
    }

    private static Task WriteFcmErrorAsync(HttpContext context, FcmOutcome outcome, string projectId)
    {
        if (outcome.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        }

        var body = outcome.ErrorBody(projectId);
        context.Response.StatusCode = outcome.Status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    private static Task WriteJsonAsync<T>(HttpContext context, int status, T value)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(value);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    private static Dictionary<string, string> OAuthError(string error, string description) =>
        new() { ["error"] = error, ["error_description"] = description };

    private static bool TryGetProjectId(string path, out string projectId)
    {
        const string prefix = "/v1/projects/";
        const string suffix = "/messages:send";
        projectId = string.Empty;
        if (path.Length <= prefix.Length + suffix.Length
            || !path.StartsWith(prefix, StringComparison.Ordinal)
            || !path.EndsWith(suffix, StringComparison.Ordinal))
        {
            return false;
        }

        projectId = path[prefix.Length..^suffix.Length];
        return projectId.Length > 0 && !projectId.Contains('/');
    }

    [GeneratedRegex(@"^[A-Za-z0-9_:\-.]{8,4096}$")]
    private static partial Regex TokenPattern();

    /// <summary>What the Admin SDKs accept as a topic name, after an optional <c>/topics/</c> prefix.</summary>
    [GeneratedRegex(@"^(/topics/)?(private/)?[a-zA-Z0-9\-_.~%]+$")]
    private static partial Regex TopicPattern();

    /// <summary>A protobuf Duration in JSON: seconds with up to nine fractional digits, then <c>s</c>.</summary>
    [GeneratedRegex(@"^(\d+(?:\.\d{1,9})?)s$")]
    private static partial Regex DurationPattern();
}

/// <summary>What one FCM request carried.</summary>
internal sealed class FcmExchange
{
    public string? Token;
    public string? Topic;
    public bool ValidateOnly;
    public JsonElement? Body;
}
