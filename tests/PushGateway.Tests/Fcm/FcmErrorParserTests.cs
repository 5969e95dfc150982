using System.Text;
using PushGateway.Fcm;

namespace PushGateway.Tests.Fcm;

/// <summary>Classification over canned answers shaped like protocols.md §2.3 (Firebase's ErrorCode table and examples).</summary>
public sealed class FcmErrorParserTests
{
    private static readonly DateTimeOffset Now = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static string Envelope(int code, string status, string message, params string[] details) =>
        $$$"""{"error":{"code":{{{code}}},"message":"{{{message}}}","status":"{{{status}}}","details":[{{{string.Join(",", details)}}}]}}""";

    private static string FcmError(string errorCode) =>
        $$$"""{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"{{{errorCode}}}"}""";

    private const string BadRequestDetail =
        """{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.data[0].value","description":"Invalid value at 'message.data[0].value' (TYPE_STRING), 1"}]}""";

    private const string QuotaFailureDetail =
        """{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"subject":"device","description":"Device message rate exceeded"}]}""";

    private const string ErrorInfoDetail =
        """{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMIT_EXCEEDED","domain":"googleapis.com","metadata":{"quota_limit":"SendsPerMinutePerProject","quota_metric":"fcm.googleapis.com/send_requests"}}""";

    public static TheoryData<string, int, string, FcmResponseClass, FcmErrorCode, string?> Rows => new()
    {
        { "UNREGISTERED", 404, Envelope(404, "NOT_FOUND", "Requested entity was not found.", FcmError("UNREGISTERED")), FcmResponseClass.TokenInvalid, FcmErrorCode.Unregistered, "NOT_FOUND" },
        { "invalid token", 400, Envelope(400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token", FcmError("INVALID_ARGUMENT")), FcmResponseClass.TokenInvalid, FcmErrorCode.InvalidArgument, "INVALID_ARGUMENT" },
        { "bad field", 400, Envelope(400, "INVALID_ARGUMENT", "Invalid value at 'message.data[0].value' (TYPE_STRING), 1", BadRequestDetail), FcmResponseClass.RequestRejected, FcmErrorCode.None, "INVALID_ARGUMENT" },
        { "bad field with FcmError", 400, Envelope(400, "INVALID_ARGUMENT", "Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration), Field 'ttl', Illegal duration format", FcmError("INVALID_ARGUMENT")), FcmResponseClass.RequestRejected, FcmErrorCode.InvalidArgument, "INVALID_ARGUMENT" },
        { "too big", 400, Envelope(400, "INVALID_ARGUMENT", "Message too big", FcmError("INVALID_ARGUMENT")), FcmResponseClass.RequestRejected, FcmErrorCode.InvalidArgument, "INVALID_ARGUMENT" },
        { "SENDER_ID_MISMATCH", 403, Envelope(403, "PERMISSION_DENIED", "SenderId mismatch", FcmError("SENDER_ID_MISMATCH")), FcmResponseClass.TokenInvalid, FcmErrorCode.SenderIdMismatch, "PERMISSION_DENIED" },
        { "QUOTA_EXCEEDED", 429, Envelope(429, "RESOURCE_EXHAUSTED", "Quota exceeded", FcmError("QUOTA_EXCEEDED"), QuotaFailureDetail), FcmResponseClass.Retryable, FcmErrorCode.QuotaExceeded, "RESOURCE_EXHAUSTED" },
        { "project quota without FcmError", 429, Envelope(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Send requests'", ErrorInfoDetail), FcmResponseClass.Retryable, FcmErrorCode.None, "RESOURCE_EXHAUSTED" },
        { "UNAVAILABLE", 503, Envelope(503, "UNAVAILABLE", "The service is currently unavailable.", FcmError("UNAVAILABLE")), FcmResponseClass.Retryable, FcmErrorCode.Unavailable, "UNAVAILABLE" },
        { "UNAVAILABLE without FcmError", 503, Envelope(503, "UNAVAILABLE", "The service is currently unavailable."), FcmResponseClass.Retryable, FcmErrorCode.None, "UNAVAILABLE" },
        { "INTERNAL", 500, Envelope(500, "INTERNAL", "Internal error encountered.", FcmError("INTERNAL")), FcmResponseClass.Retryable, FcmErrorCode.Internal, "INTERNAL" },
        { "THIRD_PARTY_AUTH_ERROR", 401, Envelope(401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service", FcmError("THIRD_PARTY_AUTH_ERROR")), FcmResponseClass.CredentialsRejected, FcmErrorCode.ThirdPartyAuthError, "UNAUTHENTICATED" },
        { "APNS_AUTH_ERROR", 401, Envelope(401, "UNAUTHENTICATED", "Auth error from APNS", FcmError("APNS_AUTH_ERROR")), FcmResponseClass.CredentialsRejected, FcmErrorCode.ThirdPartyAuthError, "UNAUTHENTICATED" },
        { "own OAuth token refused", 401, Envelope(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token."), FcmResponseClass.CredentialsRejected, FcmErrorCode.None, "UNAUTHENTICATED" },
        { "IAM refused", 403, Envelope(403, "PERMISSION_DENIED", "Permission 'cloudmessaging.messages.create' denied on resource"), FcmResponseClass.CredentialsRejected, FcmErrorCode.None, "PERMISSION_DENIED" },
        { "404 without FcmError", 404, Envelope(404, "NOT_FOUND", "Requested entity was not found."), FcmResponseClass.CredentialsRejected, FcmErrorCode.None, "NOT_FOUND" },
        { "UNSPECIFIED_ERROR at 500", 500, Envelope(500, "INTERNAL", "?", FcmError("UNSPECIFIED_ERROR")), FcmResponseClass.Retryable, FcmErrorCode.UnspecifiedError, "INTERNAL" },
        { "UNSPECIFIED_ERROR at 400", 400, Envelope(400, "INVALID_ARGUMENT", "?", FcmError("UNSPECIFIED_ERROR")), FcmResponseClass.RequestRejected, FcmErrorCode.UnspecifiedError, "INVALID_ARGUMENT" },
        { "unknown code", 400, Envelope(400, "FAILED_PRECONDITION", "new thing", FcmError("SOMETHING_NEW")), FcmResponseClass.RequestRejected, FcmErrorCode.Unknown, "FAILED_PRECONDITION" },
        { "FcmError among other details", 404, Envelope(404, "NOT_FOUND", "gone", """{"@type":"type.googleapis.com/google.rpc.Help","links":[]}""", FcmError("UNREGISTERED")), FcmResponseClass.TokenInvalid, FcmErrorCode.Unregistered, "NOT_FOUND" },
        { "HTML 502", 502, "<html><body>Bad Gateway</body></html>", FcmResponseClass.Retryable, FcmErrorCode.None, null },
        { "empty 503", 503, "", FcmResponseClass.Retryable, FcmErrorCode.None, null },
        { "text 400", 400, "Bad Request", FcmResponseClass.RequestRejected, FcmErrorCode.None, null },
        { "HTML 404 (wrong base URL)", 404, "<!DOCTYPE html><title>Error 404 (Not Found)!!1</title>", FcmResponseClass.CredentialsRejected, FcmErrorCode.None, null },
        { "empty 401", 401, "", FcmResponseClass.CredentialsRejected, FcmErrorCode.None, null },
        { "truncated JSON", 500, """{"error":{"code":500,"status":"INTE""", FcmResponseClass.Retryable, FcmErrorCode.None, null },
        { "OAuth-style error string", 400, """{"error":"invalid_request"}""", FcmResponseClass.RequestRejected, FcmErrorCode.None, null },
        { "details not an array", 404, """{"error":{"code":404,"status":"NOT_FOUND","details":{"errorCode":"UNREGISTERED"}}}""", FcmResponseClass.CredentialsRejected, FcmErrorCode.None, "NOT_FOUND" },
        { "JSON array body", 400, "[1,2]", FcmResponseClass.RequestRejected, FcmErrorCode.None, null },
        { "413 from a proxy", 413, "", FcmResponseClass.RequestRejected, FcmErrorCode.None, null },
        { "408", 408, "", FcmResponseClass.Retryable, FcmErrorCode.None, null },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void FromHttp_CannedAnswer_IsClassified(string row, int status, string body, FcmResponseClass expectedClass, FcmErrorCode expectedCode, string? expectedStatus)
    {
        var response = FcmErrorParser.FromHttp(status, Encoding.UTF8.GetBytes(body), null, Now);

        Assert.True(expectedClass == response.Class, $"{row}: expected {expectedClass}, got {response.Class}");
        Assert.Equal(expectedCode, response.ErrorCode);
        Assert.Equal(expectedStatus, response.ErrorStatus);
        Assert.Equal(status, response.StatusCode);
        Assert.False(response.IsSuccess);
        Assert.False(response.IsTransportFailure);
        Assert.Null(response.MessageName);
    }

    [Fact]
    public void FromHttp_ApnsAuthError_KeepsTheReceivedSpelling()
    {
        var response = FcmErrorParser.FromHttp(401, Encoding.UTF8.GetBytes(Envelope(401, "UNAUTHENTICATED", "x", FcmError("APNS_AUTH_ERROR"))), null, Now);

        Assert.Equal("APNS_AUTH_ERROR", response.ErrorCodeText);
        Assert.Equal(FcmErrorCode.ThirdPartyAuthError, response.ErrorCode);
    }

    [Fact]
    public void FromHttp_InvalidTokenEnvelope_KeepsTheMessage()
    {
        var response = FcmErrorParser.FromHttp(400, Encoding.UTF8.GetBytes(Envelope(400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token", FcmError("INVALID_ARGUMENT"))), null, Now);

        Assert.Equal("The registration token is not a valid FCM registration token", response.ErrorMessage);
    }

    [Fact]
    public void FromHttp_NonJsonBody_KeepsAShortPrintableSnippet()
    {
        var html = "<html>\n<body>" + new string('x', 500) + "</body></html>";

        var response = FcmErrorParser.FromHttp(502, Encoding.UTF8.GetBytes(html), null, Now);

        Assert.NotNull(response.ErrorMessage);
        Assert.StartsWith("<html> <body>xxx", response.ErrorMessage);
        Assert.EndsWith("…", response.ErrorMessage);
        Assert.True(response.ErrorMessage.Length <= 201);
    }

    [Fact]
    public void FromHttp_Success_ReturnsTheMessageName()
    {
        var response = FcmErrorParser.FromHttp(200, """{"name":"projects/demo/messages/0:1500415314455276%31bd1c9631bd1c96"}"""u8, null, Now);

        Assert.Equal(FcmResponseClass.Delivered, response.Class);
        Assert.True(response.IsSuccess);
        Assert.Equal("projects/demo/messages/0:1500415314455276%31bd1c9631bd1c96", response.MessageName);
        Assert.Equal(FcmErrorCode.None, response.ErrorCode);
    }

    [Fact]
    public void FromHttp_SuccessWithUnreadableBody_IsStillDelivered()
    {
        var response = FcmErrorParser.FromHttp(200, "ok"u8, null, Now);

        Assert.Equal(FcmResponseClass.Delivered, response.Class);
        Assert.Null(response.MessageName);
    }

    [Theory]
    [InlineData("120", 120.0)]
    [InlineData(" 0 ", 0.0)]
    [InlineData("Wed, 01 Jan 2025 12:00:30 GMT", 30.0)]
    [InlineData("Wed, 01 Jan 2025 11:59:00 GMT", 0.0)]
    public void ParseRetryAfter_SecondsOrHttpDate_IsRelativeToTheClock(string header, double expectedSeconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), FcmErrorParser.ParseRetryAfter(header, Now));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("-5")]
    public void ParseRetryAfter_MissingOrGarbage_IsNull(string? header)
    {
        Assert.Null(FcmErrorParser.ParseRetryAfter(header, Now));
    }

    [Fact]
    public void FromHttp_RetryAfterHeader_IsExposed()
    {
        var response = FcmErrorParser.FromHttp(503, ""u8, "7", Now);

        Assert.Equal(TimeSpan.FromSeconds(7), response.RetryAfter);
        Assert.Equal(FcmResponseClass.Retryable, response.Class);
    }
}
