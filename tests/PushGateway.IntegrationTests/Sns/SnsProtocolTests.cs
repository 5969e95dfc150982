using System.Globalization;
using System.Net;
using System.Text;
using System.Xml.Linq;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.Sns;

namespace PushGateway.IntegrationTests.Sns;

/// <summary>The Query protocol details no SDK exercises: a signed GET with the query string, and the protocol-level errors.</summary>
public sealed class SnsProtocolTests(TestGateway gateway) : IClassFixture<TestGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly XNamespace Ns = SnsXml.Namespace;

    /// <summary>Signs as the SDKs do (the SigV4 code is checked against AWS's published vectors in the unit tests).</summary>
    internal static HttpRequestMessage Signed(HttpMethod method, Uri url, string body, SnsKeys keys)
    {
        var request = new HttpRequestMessage(method, url);
        var amzDate = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string> { ["host"] = url.Authority, ["x-amz-date"] = amzDate };
        if (method == HttpMethod.Post)
        {
            headers["content-type"] = "application/x-www-form-urlencoded";
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-www-form-urlencoded");
        }

        var signedHeaders = headers.Keys.Order(StringComparer.Ordinal).ToList();
        var canonical = SigV4.CanonicalRequest(method.Method, url.AbsolutePath, url.Query, signedHeaders, h => [headers[h]], SigV4.PayloadHash(Encoding.UTF8.GetBytes(body)));
        var scope = $"{amzDate[..8]}/ap-south-1/sns/aws4_request";
        var signature = SigV4.Signature(SigV4.SigningKey(keys.SecretAccessKey, amzDate[..8], "ap-south-1", "sns"), SigV4.StringToSign(amzDate, scope, canonical));
        request.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        request.Headers.TryAddWithoutValidation("Authorization",
            $"AWS4-HMAC-SHA256 Credential={keys.AccessKeyId}/{scope}, SignedHeaders={string.Join(';', signedHeaders)}, Signature={signature}");
        return request;
    }

    [Fact]
    public async Task SignedGet_WithTheQueryString_Works_AndTheRequestIdIsInHeaderAndBody()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var keys = await SnsTools.CreateKeysAsync(project.Client, project.ProjectId, Ct);
        using var client = gateway.Client();
        var created = await client.SendAsync(Signed(HttpMethod.Get, new Uri(gateway.BaseAddress, "sns/?Action=CreateTopic&Version=2010-03-31&Name=via-get"), "", keys), Ct);
        var text = await created.Content.ReadAsStringAsync(Ct);
        Assert.True(created.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("text/xml", created.Content.Headers.ContentType?.MediaType);
        var xml = XDocument.Parse(text);
        Assert.Equal(Ns + "CreateTopicResponse", xml.Root!.Name);
        Assert.Equal($"arn:aws:sns:ap-south-1:{keys.AccountId}:via-get", xml.Root.Element(Ns + "CreateTopicResult")!.Element(Ns + "TopicArn")!.Value);
        Assert.Equal(created.Headers.GetValues("x-amzn-RequestId").Single(), xml.Root.Element(Ns + "ResponseMetadata")!.Element(Ns + "RequestId")!.Value);
        Assert.Equal(1L, await gateway.ScalarAsync<long>("SELECT count(*) FROM topics WHERE project_id = @p AND name = 'via-get'", Ct, ("p", project.ProjectId)));
    }

    [Theory]
    [InlineData("Action=DoSomething&Version=2010-03-31", "InvalidAction", 400)]
    [InlineData("Version=2010-03-31", "MissingAction", 400)]
    [InlineData("Action=CreatePlatformApplication&Version=2010-03-31&Name=a&Platform=APNS", "ValidationError", 400)]
    [InlineData("Action=CreatePlatformApplication&Version=2010-03-31&Name=a&Platform=ADM&Attributes.entry.1.key=PlatformCredential&Attributes.entry.1.value=x", "InvalidParameter", 400)]
    [InlineData("Action=GetPlatformApplicationAttributes&Version=2010-03-31&PlatformApplicationArn=invalid-arn", "InvalidParameter", 400)]
    [InlineData("Action=ListTopics&Version=2010-03-31&NextToken=garbage!", "InvalidParameter", 400)]
    public async Task ProtocolErrors_AreErrorResponses(string body, string code, int status)
    {
        var project = await gateway.NewProjectAsync(Ct);
        var keys = await SnsTools.CreateKeysAsync(project.Client, project.ProjectId, Ct);
        using var client = gateway.Client();
        var response = await client.SendAsync(Signed(HttpMethod.Post, new Uri(gateway.BaseAddress, "sns"), body, keys), Ct);
        var xml = XDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(Ns + "ErrorResponse", xml.Root!.Name);
        var error = xml.Root.Element(Ns + "Error")!;
        Assert.Equal(code, error.Element(Ns + "Code")!.Value);
        Assert.Equal("Sender", error.Element(Ns + "Type")!.Value);
        Assert.Equal(response.Headers.GetValues("x-amzn-RequestId").Single(), xml.Root.Element(Ns + "RequestId")!.Value);
    }
}
