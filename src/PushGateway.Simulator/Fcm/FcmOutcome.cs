using System.Buffers;
using System.Text.Json;
using PushGateway.Simulator.Apns;

namespace PushGateway.Simulator.Fcm;

internal enum FcmDetail
{
    None,

    /// <summary>google.rpc.BadRequest with one field violation.</summary>
    BadRequest,

    /// <summary>google.rpc.QuotaFailure (device rate).</summary>
    QuotaFailure,

    /// <summary>google.rpc.ErrorInfo RATE_LIMIT_EXCEEDED (project quota).</summary>
    ErrorInfo,
}

/// <summary>An FCM answer: 200, or a google.rpc.Status error envelope. <c>default</c> = no decision yet.</summary>
internal readonly record struct FcmOutcome(
    int Status,
    string? GrpcStatus = null,
    string? Message = null,
    string? ErrorCode = null,
    FcmDetail Detail = FcmDetail.None,
    string? Field = null,
    int? RetryAfter = null,
    AnswerAction Action = AnswerAction.Respond)
{
    public const string InvalidTokenMessage = "The registration token is not a valid FCM registration token";

    public bool IsDecided => Status != 0 || Action != AnswerAction.Respond;

    public static FcmOutcome Accepted { get; } = new(200);

    /// <summary>What the received list and counters call it: the FcmError code, else the gRPC status.</summary>
    public string? Reason => Action switch
    {
        AnswerAction.Reset => "reset",
        AnswerAction.Hang => "hang",
        _ => Status == 200 ? null : ErrorCode ?? GrpcStatus,
    };

    public static FcmOutcome Unauthenticated() => new(
        401,
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.");

    public static FcmOutcome PermissionDenied(string projectId) => new(
        403,
        "PERMISSION_DENIED",
        $"Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/{projectId}' (or it may not exist).");

    public static FcmOutcome BadField(string field, string description) =>
        new(400, "INVALID_ARGUMENT", description, Detail: FcmDetail.BadRequest, Field: field);

    public static FcmOutcome InvalidToken(int? retryAfter = null) =>
        new(400, "INVALID_ARGUMENT", InvalidTokenMessage, "INVALID_ARGUMENT", RetryAfter: retryAfter);

    public static FcmOutcome TooBig() =>
        new(400, "INVALID_ARGUMENT", "Message too big", "INVALID_ARGUMENT", FcmDetail.BadRequest, "message");

    public static FcmOutcome Unavailable(int? retryAfter) =>
        new(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE", RetryAfter: retryAfter);

    /// <summary>The FCM answer of a preset (either platform's names; APNs ones map to their FCM counterparts).</summary>
    public static FcmOutcome FromPreset(string preset, int? retryAfter) => preset switch
    {
        TokenPresets.Ok => Accepted,
        TokenPresets.FcmUnregistered or TokenPresets.Unregistered or TokenPresets.ExpiredToken =>
            new(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED", RetryAfter: retryAfter),
        TokenPresets.FcmInvalidToken or TokenPresets.BadDeviceToken => InvalidToken(retryAfter),
        TokenPresets.FcmInvalidPayload or TokenPresets.PayloadTooLarge => BadField(
            "message.data[0].value", "Invalid value at 'message.data[0].value' (TYPE_STRING), 12") with { RetryAfter = retryAfter },
        TokenPresets.FcmSenderMismatch or TokenPresets.NotForTopic =>
            new(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH", RetryAfter: retryAfter),
        TokenPresets.FcmQuotaExceeded or TokenPresets.TooManyRequests => new(
            429, "RESOURCE_EXHAUSTED", "Quota exceeded for the device message rate.", "QUOTA_EXCEEDED", FcmDetail.QuotaFailure,
            RetryAfter: retryAfter),
        TokenPresets.FcmProjectQuota => new(
            429, "RESOURCE_EXHAUSTED",
            "Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute' of service 'fcm.googleapis.com'.",
            Detail: FcmDetail.ErrorInfo, RetryAfter: retryAfter),
        TokenPresets.FcmUnavailable or TokenPresets.ServiceUnavailable or TokenPresets.Shutdown or TokenPresets.IdleTimeout =>
            Unavailable(retryAfter),
        TokenPresets.FcmInternal or TokenPresets.InternalError =>
            new(500, "INTERNAL", "Internal error encountered.", "INTERNAL", RetryAfter: retryAfter),
        TokenPresets.FcmThirdPartyAuth =>
            new(401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service", "THIRD_PARTY_AUTH_ERROR", RetryAfter: retryAfter),
        TokenPresets.Reset => new(0, Action: AnswerAction.Reset),
        TokenPresets.Hang => new(0, Action: AnswerAction.Hang),
        _ => default,
    };

    /// <summary>An explicit answer from a token behaviour.</summary>
    public static FcmOutcome FromAnswer(FcmAnswer answer, int? retryAfter)
    {
        var status = answer.Status == 0 ? 200 : answer.Status;
        if (status == 200)
        {
            return Accepted;
        }

        var grpc = answer.GrpcStatus ?? GrpcStatusFor(status);
        return new(status, grpc, answer.Message ?? grpc, answer.ErrorCode, RetryAfter: retryAfter);
    }

    /// <summary>The google.rpc.Status envelope: <c>{"error": {code, message, status, details}}</c>.</summary>
    public byte[] ErrorBody(string projectId)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteNumber("code", Status);
            writer.WriteString("message", Message ?? GrpcStatus);
            writer.WriteString("status", GrpcStatus);
            writer.WriteStartArray("details");
            if (ErrorCode is not null)
            {
                writer.WriteStartObject();
                writer.WriteString("@type", "type.googleapis.com/google.firebase.fcm.v1.FcmError");
                writer.WriteString("errorCode", ErrorCode);
                writer.WriteEndObject();
            }

            switch (Detail)
            {
                case FcmDetail.BadRequest:
                    writer.WriteStartObject();
                    writer.WriteString("@type", "type.googleapis.com/google.rpc.BadRequest");
                    writer.WriteStartArray("fieldViolations");
                    writer.WriteStartObject();
                    writer.WriteString("field", Field ?? "message");
                    writer.WriteString("description", Message);
                    writer.WriteEndObject();
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                    break;
                case FcmDetail.QuotaFailure:
                    writer.WriteStartObject();
                    writer.WriteString("@type", "type.googleapis.com/google.rpc.QuotaFailure");
                    writer.WriteStartArray("violations");
                    writer.WriteStartObject();
                    writer.WriteString("subject", "device");
                    writer.WriteString("description", "Device message rate exceeded.");
                    writer.WriteEndObject();
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                    break;
                case FcmDetail.ErrorInfo:
                    writer.WriteStartObject();
                    writer.WriteString("@type", "type.googleapis.com/google.rpc.ErrorInfo");
                    writer.WriteString("reason", "RATE_LIMIT_EXCEEDED");
                    writer.WriteString("domain", "googleapis.com");
                    writer.WriteStartObject("metadata");
                    writer.WriteString("quota_limit", "SendsPerMinutePerProject");
                    writer.WriteString("quota_metric", "fcm.googleapis.com/send_requests");
                    writer.WriteString("service", "fcm.googleapis.com");
                    writer.WriteString("consumer", "projects/" + projectId);
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                    break;
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string GrpcStatusFor(int status) => status switch
    {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        429 => "RESOURCE_EXHAUSTED",
        500 => "INTERNAL",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "UNKNOWN",
    };
}
