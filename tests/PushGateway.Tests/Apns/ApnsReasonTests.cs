using System.Text;
using PushGateway.Apns;

namespace PushGateway.Tests.Apns;

public sealed class ApnsReasonTests
{
    // Every row of Apple's table (protocols.md 1.5) with the class the clients contract gives it.
    public static TheoryData<int, string, ApnsReason, ApnsResponseClass> Table => new()
    {
        { 400, "BadCollapseId", ApnsReason.BadCollapseId, ApnsResponseClass.RequestRejected },
        { 400, "BadDeviceToken", ApnsReason.BadDeviceToken, ApnsResponseClass.TokenInvalid },
        { 400, "BadExpirationDate", ApnsReason.BadExpirationDate, ApnsResponseClass.RequestRejected },
        { 400, "BadMessageId", ApnsReason.BadMessageId, ApnsResponseClass.RequestRejected },
        { 400, "BadPriority", ApnsReason.BadPriority, ApnsResponseClass.RequestRejected },
        { 400, "BadTopic", ApnsReason.BadTopic, ApnsResponseClass.CredentialsRejected },
        { 400, "DeviceTokenNotForTopic", ApnsReason.DeviceTokenNotForTopic, ApnsResponseClass.TokenNotForTopic },
        { 400, "DuplicateHeaders", ApnsReason.DuplicateHeaders, ApnsResponseClass.RequestRejected },
        { 400, "IdleTimeout", ApnsReason.IdleTimeout, ApnsResponseClass.Retryable },
        { 400, "InvalidPushType", ApnsReason.InvalidPushType, ApnsResponseClass.RequestRejected },
        { 400, "MissingDeviceToken", ApnsReason.MissingDeviceToken, ApnsResponseClass.RequestRejected },
        { 400, "MissingTopic", ApnsReason.MissingTopic, ApnsResponseClass.RequestRejected },
        { 400, "PayloadEmpty", ApnsReason.PayloadEmpty, ApnsResponseClass.RequestRejected },
        { 400, "TopicDisallowed", ApnsReason.TopicDisallowed, ApnsResponseClass.CredentialsRejected },
        { 403, "BadCertificate", ApnsReason.BadCertificate, ApnsResponseClass.CredentialsRejected },
        { 403, "BadCertificateEnvironment", ApnsReason.BadCertificateEnvironment, ApnsResponseClass.CredentialsRejected },
        { 403, "ExpiredProviderToken", ApnsReason.ExpiredProviderToken, ApnsResponseClass.ProviderTokenExpired },
        { 403, "Forbidden", ApnsReason.Forbidden, ApnsResponseClass.CredentialsRejected },
        { 403, "InvalidProviderToken", ApnsReason.InvalidProviderToken, ApnsResponseClass.CredentialsRejected },
        { 403, "MissingProviderToken", ApnsReason.MissingProviderToken, ApnsResponseClass.CredentialsRejected },
        { 403, "UnrelatedKeyIdInToken", ApnsReason.UnrelatedKeyIdInToken, ApnsResponseClass.CredentialsRejected },
        { 403, "BadEnvironmentKeyIdInToken", ApnsReason.BadEnvironmentKeyIdInToken, ApnsResponseClass.CredentialsRejected },
        { 403, "BadEnvironmentKeyInToken", ApnsReason.BadEnvironmentKeyInToken, ApnsResponseClass.CredentialsRejected },
        { 404, "BadPath", ApnsReason.BadPath, ApnsResponseClass.RequestRejected },
        { 405, "MethodNotAllowed", ApnsReason.MethodNotAllowed, ApnsResponseClass.RequestRejected },
        { 410, "ExpiredToken", ApnsReason.ExpiredToken, ApnsResponseClass.TokenUnregistered },
        { 410, "Unregistered", ApnsReason.Unregistered, ApnsResponseClass.TokenUnregistered },
        { 413, "PayloadTooLarge", ApnsReason.PayloadTooLarge, ApnsResponseClass.RequestRejected },
        { 429, "TooManyProviderTokenUpdates", ApnsReason.TooManyProviderTokenUpdates, ApnsResponseClass.CredentialsRejected },
        { 429, "TooManyRequests", ApnsReason.TooManyRequests, ApnsResponseClass.Retryable },
        { 500, "InternalServerError", ApnsReason.InternalServerError, ApnsResponseClass.Retryable },
        { 503, "ServiceUnavailable", ApnsReason.ServiceUnavailable, ApnsResponseClass.Retryable },
        { 503, "Shutdown", ApnsReason.Shutdown, ApnsResponseClass.Retryable },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void FromHttp_EachRowOfAppleTable_ParsesReasonAndClassifies(int status, string text, ApnsReason reason, ApnsResponseClass expected)
    {
        var response = ApnsResponse.FromHttp(status, text);

        Assert.Equal(reason, response.Reason);
        Assert.Equal(text, response.ReasonText);
        Assert.Equal(expected, response.Class);
        Assert.False(response.IsAccepted);
        Assert.False(response.IsTransportFailure);
    }

    [Fact]
    public void Table_CoversEveryReasonOfTheEnum()
    {
        var covered = Table.Select(row => (ApnsReason)row.Data.Item3).ToHashSet();
        var all = Enum.GetValues<ApnsReason>().Where(r => r is not ApnsReason.None and not ApnsReason.Unknown).ToHashSet();

        Assert.Equal(all.OrderBy(r => r), covered.OrderBy(r => r));
    }

    [Fact]
    public void BadEnvironmentKey_BothSpellings_AreTheSameReasonButKeepTheirText()
    {
        var withId = ApnsResponse.FromHttp(403, "BadEnvironmentKeyIdInToken");
        var withoutId = ApnsResponse.FromHttp(403, "BadEnvironmentKeyInToken");

        Assert.Equal(withId.Reason, withoutId.Reason);
        Assert.Equal("BadEnvironmentKeyIdInToken", withId.ReasonText);
        Assert.Equal("BadEnvironmentKeyInToken", withoutId.ReasonText);
    }

    [Theory]
    [InlineData(400, "BadPayload", ApnsResponseClass.RequestRejected)]
    [InlineData(403, "SomethingNew", ApnsResponseClass.CredentialsRejected)]
    [InlineData(410, null, ApnsResponseClass.TokenUnregistered)]
    [InlineData(502, null, ApnsResponseClass.Retryable)]
    [InlineData(429, "NotYetKnown", ApnsResponseClass.Retryable)]
    public void FromHttp_UnknownReason_IsClassifiedByStatus(int status, string? text, ApnsResponseClass expected)
    {
        var response = ApnsResponse.FromHttp(status, text);

        Assert.Equal(ApnsReason.Unknown, response.Reason);
        Assert.Equal(expected, response.Class);
    }

    [Fact]
    public void FromHttp_200_IsAcceptedWithNoReason()
    {
        var response = ApnsResponse.FromHttp(200, null);

        Assert.True(response.IsAccepted);
        Assert.Equal(ApnsReason.None, response.Reason);
        Assert.Equal(ApnsResponseClass.Accepted, response.Class);
    }

    [Fact]
    public void FromTransportFailure_Always_IsRetryableWithStatusZero()
    {
        var response = ApnsResponse.FromTransportFailure("ConnectionError: refused");

        Assert.Equal(0, response.StatusCode);
        Assert.True(response.IsTransportFailure);
        Assert.Equal(ApnsResponseClass.Retryable, response.Class);
        Assert.Equal("ConnectionError: refused", response.TransportError);
    }

    [Theory]
    [InlineData("""{"reason":"Unregistered","timestamp":1700000000123}""", "Unregistered", 1700000000123L)]
    [InlineData("""{"timestamp":"1700000000123","reason":"Unregistered"}""", "Unregistered", 1700000000123L)]
    [InlineData("""{"reason":"BadDeviceToken","extra":{"a":[1,2]}}""", "BadDeviceToken", null)]
    [InlineData("""{"reason":"BadTopic",""", "BadTopic", null)]
    [InlineData("not json", null, null)]
    [InlineData("", null, null)]
    public void ParseErrorBody_VariousBodies_ReadsReasonAndTimestamp(string body, string? reason, long? timestamp)
    {
        var (parsedReason, parsedTimestamp) = ApnsClient.ParseErrorBody(Encoding.UTF8.GetBytes(body));

        Assert.Equal(reason, parsedReason);
        Assert.Equal(timestamp, parsedTimestamp);
    }

    [Theory]
    [InlineData(ApnsPushType.Alert, "alert", "")]
    [InlineData(ApnsPushType.Background, "background", "")]
    [InlineData(ApnsPushType.Voip, "voip", ".voip")]
    [InlineData(ApnsPushType.Complication, "complication", ".complication")]
    [InlineData(ApnsPushType.FileProvider, "fileprovider", ".pushkit.fileprovider")]
    [InlineData(ApnsPushType.Mdm, "mdm", "")]
    [InlineData(ApnsPushType.Location, "location", ".location-query")]
    [InlineData(ApnsPushType.LiveActivity, "liveactivity", ".push-type.liveactivity")]
    [InlineData(ApnsPushType.PushToTalk, "pushtotalk", ".voip-ptt")]
    [InlineData(ApnsPushType.Widgets, "widgets", ".push-type.widgets")]
    [InlineData(ApnsPushType.Controls, "controls", ".push-type.controls")]
    public void PushTypes_EachType_MapsToHeaderValueAndTopicSuffix(ApnsPushType type, string header, string suffix)
    {
        Assert.Equal(header, ApnsPushTypes.ToHeaderValue(type));
        Assert.Equal(suffix, ApnsPushTypes.TopicSuffix(type));
        Assert.True(ApnsPushTypes.TryParse(header, out var parsed));
        Assert.Equal(type, parsed);
    }

    [Fact]
    public void PushTypes_TryParseUnknown_ReturnsFalse()
    {
        Assert.False(ApnsPushTypes.TryParse("Alert", out _));
        Assert.False(ApnsPushTypes.TryParse(null, out _));
    }
}
