using PushGateway.Apns;
using PushGateway.Data;
using PushGateway.Delivery;

namespace PushGateway.Tests.Delivery;

/// <summary>
/// The README's delivery table, row by row, without a database: a provider answer, classified and applied to a
/// claimed delivery, gives the delivery's new state and what happens to its endpoint and application.
/// </summary>
public sealed class OutcomeTableRowsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly DeliveryOptions Options = new() { MaxAttempts = 10, RetryBaseDelay = TimeSpan.FromSeconds(1), RetryMaxDelay = TimeSpan.FromMinutes(15) };

    private static ClaimedDelivery Claimed(int attempts = 1) =>
        new(1, Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), attempts, Now.AddHours(1), "token", true, Now.AddSeconds(30));

    [Theory]
    //          provider answer                         delivery   endpoint    application
    [InlineData("APNs 200",                             "delivered", "-",        "-")]
    [InlineData("APNs 410 Unregistered",                "failed",    "disabled", "-")]
    [InlineData("APNs 410 ExpiredToken",                "failed",    "disabled", "-")]
    [InlineData("APNs 400 BadDeviceToken",              "failed",    "disabled", "-")]
    [InlineData("APNs 400 DeviceTokenNotForTopic",      "failed",    "disabled", "-")]
    [InlineData("APNs 400 BadCollapseId",               "failed",    "-",        "-")]
    [InlineData("APNs 400 InvalidHeaderValue (local)",  "failed",    "-",        "-")]
    [InlineData("APNs 413 PayloadTooLarge",             "failed",    "-",        "-")]
    [InlineData("APNs 403 ExpiredProviderToken",        "pending",   "-",        "-")]
    [InlineData("APNs 403 InvalidProviderToken",        "held",      "-",        "disabled")]
    [InlineData("APNs 403 BadCertificate",              "held",      "-",        "disabled")]
    [InlineData("APNs 429 TooManyRequests",             "pending",   "-",        "-")]
    [InlineData("APNs 500 InternalServerError",         "pending",   "-",        "-")]
    [InlineData("APNs 503 ServiceUnavailable",          "pending",   "-",        "-")]
    [InlineData("APNs connection error",                "pending",   "-",        "-")]
    public void ApnsRow(string answer, string delivery, string endpoint, string application)
    {
        var outcome = ApnsOutcomes.Classify(ApnsAnswer(answer), "production");
        var result = OutcomeTable.Apply(Claimed(), Guid.NewGuid(), 1, outcome, 3600, Now, 0.5, Options);

        Assert.Equal(delivery, result.State);
        Assert.Equal(endpoint, result.DisableEndpoint is null ? "-" : "disabled");
        Assert.Equal(application, result.DisableApplication is null ? "-" : "disabled");
    }

    [Theory]
    //          provider answer                                         delivery   endpoint    application
    [InlineData("FCM 200",                                              "delivered", "-",        "-")]
    [InlineData("FCM 404 NOT_FOUND UNREGISTERED",                       "failed",    "disabled", "-")]
    [InlineData("FCM 400 INVALID_ARGUMENT about the token",             "failed",    "disabled", "-")]
    [InlineData("FCM 403 PERMISSION_DENIED SENDER_ID_MISMATCH",         "failed",    "disabled", "-")]
    [InlineData("FCM 400 INVALID_ARGUMENT about the payload",           "failed",    "-",        "-")]
    [InlineData("FCM 401 UNAUTHENTICATED THIRD_PARTY_AUTH_ERROR",       "held",      "-",        "disabled")]
    [InlineData("FCM 429 RESOURCE_EXHAUSTED QUOTA_EXCEEDED",            "pending",   "-",        "-")]
    [InlineData("FCM 500 INTERNAL INTERNAL",                            "pending",   "-",        "-")]
    [InlineData("FCM 503 UNAVAILABLE UNAVAILABLE",                      "pending",   "-",        "-")]
    public void FcmRow(string answer, string delivery, string endpoint, string application)
    {
        var outcome = FcmOutcomes.Classify(FcmAnswer(answer));
        var result = OutcomeTable.Apply(Claimed(), Guid.NewGuid(), 1, outcome, 3600, Now, 0.5, Options);

        Assert.Equal(delivery, result.State);
        Assert.Equal(endpoint, result.DisableEndpoint is null ? "-" : "disabled");
        Assert.Equal(application, result.DisableApplication is null ? "-" : "disabled");
    }

    [Fact]
    public void ApnsBadDeviceToken_NamesTheEnvironmentThatRefusedIt()
    {
        var result = OutcomeTable.Apply(Claimed(), Guid.NewGuid(), 1, ApnsOutcomes.Classify(ApnsAnswer("APNs 400 BadDeviceToken"), "production"), 3600, Now, 0.5, Options);
        Assert.Equal("apns:400:BadDeviceToken (refused by the production environment)", result.DisableEndpoint!.Reason);
    }

    [Fact]
    public void Apns410_CarriesItsTimestamp_ForTheReRegistrationRule()
    {
        var at = Now.AddMinutes(-5);
        var response = ApnsResponse.FromHttp(410, "Unregistered", timestamp: at);
        var result = OutcomeTable.Apply(Claimed(), Guid.NewGuid(), 1, ApnsOutcomes.Classify(response, "production"), 3600, Now, 0.5, Options);
        Assert.Equal(at, result.DisableEndpoint!.Timestamp);
    }

    [Fact]
    public void Retry_HonoursRetryAfter_ThenBacksOffWithTheJitterGiven()
    {
        var after = OutcomeTable.Apply(Claimed(), Guid.NewGuid(), 1, new DeliveryOutcome.Retry(429, "TooManyRequests", TimeSpan.FromSeconds(42)), 3600, Now, 0.5, Options);
        Assert.Equal(Now.AddSeconds(42), after.NextAttemptAt);

        // Attempt 3: base 1 s doubled twice = 4 s, jitter 0 → half of it, jitter 1 → all of it.
        Assert.Equal(Now.AddSeconds(2), OutcomeTable.Apply(Claimed(3), Guid.NewGuid(), 1, new DeliveryOutcome.Retry(503, "x", null), 3600, Now, 0, Options).NextAttemptAt);
        Assert.Equal(Now.AddSeconds(4), OutcomeTable.Apply(Claimed(3), Guid.NewGuid(), 1, new DeliveryOutcome.Retry(503, "x", null), 3600, Now, 1, Options).NextAttemptAt);
    }

    [Theory]
    [InlineData(10, 3600, "failed")]   // the attempt limit
    [InlineData(1, 0, "expired")]      // ttlSeconds 0: now or never
    public void Retry_EndsAtTheAttemptLimit_OrAtOnceForNowOrNever(int attempts, int ttl, string state)
    {
        var result = OutcomeTable.Apply(Claimed(attempts), Guid.NewGuid(), 1, new DeliveryOutcome.Retry(503, "ServiceUnavailable", null), ttl, Now, 0.5, Options);
        Assert.Equal(state, result.State);
    }

    [Fact]
    public void Retry_PastTheTtl_Expires()
    {
        var claimed = Claimed() with { ExpiresAt = Now.AddMilliseconds(100) };
        var result = OutcomeTable.Apply(claimed, Guid.NewGuid(), 1, new DeliveryOutcome.Retry(503, "ServiceUnavailable", null), 3600, Now, 0.5, Options);
        Assert.Equal(DeliveryStates.Expired, result.State);
    }

    [Fact]
    public void ProviderText_IsCutOnWholeCharacters_WithoutControls()
    {
        var text = new string('a', 299) + "\U0001F600" + "tail";
        var cleaned = ProviderText.Clean(text, 300)!;
        Assert.Equal(new string('a', 299), cleaned); // the emoji does not fit whole: it is left out, not halved
        Assert.Equal("a b c", ProviderText.Clean("a\r\nb\0\tc".Replace("\r\n", "\n"), 100)!.Replace("\0", ""));
        Assert.Equal("ok", ProviderText.Clean("o\uD800k", 100)); // a lone surrogate is dropped
    }

    [Fact]
    public void PreSend_SkipsExpiresAndHolds_BeforeAnythingIsSent()
    {
        Assert.Equal(DeliveryStates.Skipped, PreSendCheck.Decide(Claimed() with { EndpointEnabled = false }, true, true, true, Now)!.State);
        Assert.Equal(DeliveryStates.Expired, PreSendCheck.Decide(Claimed() with { ExpiresAt = Now }, true, true, true, Now)!.State);
        Assert.Equal(DeliveryStates.Held, PreSendCheck.Decide(Claimed(), true, false, true, Now)!.State);
        Assert.Null(PreSendCheck.Decide(Claimed(), true, true, true, Now));
        Assert.Equal(0, PreSendCheck.GiveBack(Claimed(), Now).Attempts);
        Assert.False(PreSendCheck.LeaseAllowsSending(Now.AddSeconds(11), Now, TimeSpan.FromSeconds(10)));
        Assert.True(PreSendCheck.LeaseAllowsSending(Now.AddSeconds(30), Now, TimeSpan.FromSeconds(10)));
    }

    /// <summary>Google's error envelope for a row: status, canonical status, the FcmError detail's code.</summary>
    private static PushGateway.Fcm.FcmResponse FcmAnswer(string row)
    {
        var parts = row.Split(' ');
        var status = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        if (status == 200)
        {
            return PushGateway.Fcm.FcmErrorParser.FromHttp(200, """{"name":"projects/p/messages/1"}"""u8, null, Now);
        }

        var message = row.EndsWith("about the token", StringComparison.Ordinal) ? "The registration token is not a valid FCM registration token"
            : row.EndsWith("about the payload", StringComparison.Ordinal) ? "Invalid JSON payload received. Unknown name \"colour\""
            : "error";
        var code = parts[2] == "INVALID_ARGUMENT" ? "INVALID_ARGUMENT" : parts[3];
        var body = $$$"""{"error":{"code":{{{status}}},"message":"{{{message}}}","status":"{{{parts[2]}}}","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"{{{code}}}"}]}}""";
        return PushGateway.Fcm.FcmErrorParser.FromHttp(status, System.Text.Encoding.UTF8.GetBytes(body), null, Now);
    }

    private static ApnsResponse ApnsAnswer(string row)
    {
        if (row == "APNs connection error")
        {
            return ApnsResponse.FromTransportFailure("connection refused");
        }

        var parts = row.Split(' ');
        var status = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        if (row.EndsWith("(local)", StringComparison.Ordinal))
        {
            return ApnsResponse.LocalRejection(status, parts[2]);
        }

        return status == 200 ? ApnsResponse.FromHttp(200, null) : ApnsResponse.FromHttp(status, parts[2]);
    }
}
