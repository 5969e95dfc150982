using System.Globalization;
using System.Text.Json;

namespace PushGateway.Fcm;

/// <summary>
/// Reads FCM answers: the success body <c>{"name": …}</c> and the <c>google.rpc.Status</c> error envelope
/// <c>{"error": {"code", "message", "status", "details": [{"@type": "…FcmError", "errorCode": …}, …]}}</c>, and
/// classifies them. Never throws on a malformed or non-JSON body.
/// </summary>
internal static class FcmErrorParser
{
    private const string FcmErrorType = "type.googleapis.com/google.firebase.fcm.v1.FcmError";

    public static FcmResponse FromHttp(int statusCode, ReadOnlySpan<byte> body, string? retryAfterHeader, DateTimeOffset now)
    {
        var retryAfter = ParseRetryAfter(retryAfterHeader, now);
        if (statusCode is >= 200 and < 300)
        {
            return new FcmResponse(statusCode, ReadName(body), null, null, null, retryAfter, FcmResponseClass.Delivered);
        }

        var (status, message, errorCode) = ReadError(body);
        var responseClass = Classify(statusCode, status, ParseErrorCode(errorCode), message);
        return new FcmResponse(statusCode, null, status, errorCode, message, retryAfter, responseClass);
    }

    /// <summary>The classification table of the README, in code.</summary>
    public static FcmResponseClass Classify(int statusCode, string? grpcStatus, FcmErrorCode errorCode, string? message)
    {
        if (statusCode is >= 200 and < 300)
        {
            return FcmResponseClass.Delivered;
        }

        // The FcmError detail is the most specific signal, so it wins over the HTTP status.
        switch (errorCode)
        {
            case FcmErrorCode.ThirdPartyAuthError:
                return FcmResponseClass.CredentialsRejected;
            case FcmErrorCode.Unregistered:
            case FcmErrorCode.SenderIdMismatch:
                return FcmResponseClass.TokenInvalid;
            case FcmErrorCode.QuotaExceeded:
            case FcmErrorCode.Unavailable:
            case FcmErrorCode.Internal:
                return FcmResponseClass.Retryable;
        }

        // 429 without FcmError is the project quota (google.rpc.ErrorInfo RATE_LIMIT_EXCEEDED), still a "later".
        if (statusCode is 408 or 429 or >= 500 || grpcStatus is "RESOURCE_EXHAUSTED" or "UNAVAILABLE" or "INTERNAL")
        {
            return FcmResponseClass.Retryable;
        }

        // INVALID_ARGUMENT covers both a malformed token and a bad field; only the message tells them apart.
        if (statusCode == 400 || grpcStatus == "INVALID_ARGUMENT" || errorCode == FcmErrorCode.InvalidArgument)
        {
            return SaysTokenIsInvalid(message) ? FcmResponseClass.TokenInvalid : FcmResponseClass.RequestRejected;
        }

        // 401/403 without FcmError reach the caller only after the client retried once with a fresh access token.
        // 404 without FcmError is not UNREGISTERED: it is what a wrong base URL or project gives for every message,
        // so it is a channel configuration problem, not a reason to drop one message or token.
        if (statusCode is 401 or 403 or 404 || grpcStatus is "UNAUTHENTICATED" or "PERMISSION_DENIED")
        {
            return FcmResponseClass.CredentialsRejected;
        }

        return FcmResponseClass.RequestRejected;
    }

    /// <summary>"The registration token is not a valid FCM registration token" and close variants.</summary>
    public static bool SaysTokenIsInvalid(string? message) =>
        message is not null
        && message.Contains("registration token", StringComparison.OrdinalIgnoreCase)
        && (message.Contains("not a valid", StringComparison.OrdinalIgnoreCase)
            || message.Contains("invalid", StringComparison.OrdinalIgnoreCase));

    public static FcmErrorCode ParseErrorCode(string? errorCode) => errorCode switch
    {
        null or "" => FcmErrorCode.None,
        "UNSPECIFIED_ERROR" => FcmErrorCode.UnspecifiedError,
        "INVALID_ARGUMENT" => FcmErrorCode.InvalidArgument,
        "UNREGISTERED" => FcmErrorCode.Unregistered,
        "SENDER_ID_MISMATCH" => FcmErrorCode.SenderIdMismatch,
        "QUOTA_EXCEEDED" => FcmErrorCode.QuotaExceeded,
        "UNAVAILABLE" => FcmErrorCode.Unavailable,
        "INTERNAL" => FcmErrorCode.Internal,
        // The older spelling; every Admin SDK treats it as THIRD_PARTY_AUTH_ERROR.
        "THIRD_PARTY_AUTH_ERROR" or "APNS_AUTH_ERROR" => FcmErrorCode.ThirdPartyAuthError,
        _ => FcmErrorCode.Unknown,
    };

    /// <summary><c>Retry-After</c> as delay-seconds or an HTTP-date (RFC 9110 §10.2.3); a past date is zero.</summary>
    public static TimeSpan? ParseRetryAfter(string? value, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        value = value.Trim();
        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(Math.Min(seconds, (long)TimeSpan.MaxValue.TotalSeconds - 1));
        }

        if (DateTimeOffset.TryParseExact(value, "r", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var date)
            || DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out date))
        {
            var delay = date - now;
            return delay > TimeSpan.Zero ? delay : TimeSpan.Zero;
        }

        return null;
    }

    private static string? ReadName(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("name", out var name)
                && name.ValueKind == JsonValueKind.String
                ? name.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static (string? Status, string? Message, string? ErrorCode) ReadError(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return (null, null, null);
        }

        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("error", out var error)
                || error.ValueKind != JsonValueKind.Object)
            {
                return (null, Snippet(body), null);
            }

            var status = GetString(error, "status");
            var message = GetString(error, "message");
            string? errorCode = null;
            if (error.TryGetProperty("details", out var details) && details.ValueKind == JsonValueKind.Array)
            {
                foreach (var detail in details.EnumerateArray())
                {
                    if (detail.ValueKind == JsonValueKind.Object && GetString(detail, "@type") == FcmErrorType)
                    {
                        errorCode = GetString(detail, "errorCode");
                        break;
                    }
                }
            }

            return (status, message, errorCode);
        }
        catch (JsonException)
        {
            return (null, Snippet(body), null);
        }
    }

    /// <summary>The start of a body that is not the error envelope (a proxy's HTML page…), for diagnostics.</summary>
    private static string Snippet(ReadOnlySpan<byte> body)
    {
        const int MaxBytes = 200;
        var text = System.Text.Encoding.UTF8.GetString(body[..Math.Min(body.Length, MaxBytes)]);
        var chars = text.Select(c => char.IsControl(c) ? ' ' : c).ToArray();
        return new string(chars).Trim() + (body.Length > MaxBytes ? "…" : "");
    }

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
