using PushGateway.Sns;

namespace PushGateway.Tests.Sns;

/// <summary>
/// The SigV4 computation against AWS's published Signature Version 4 test suite (aws-sig-v4-test-suite: credentials
/// AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830T123600Z, us-east-1, service "service", host
/// example.amazonaws.com). The expected signatures are the suite's.
/// </summary>
public sealed class SigV4VectorTests
{
    private const string Secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private const string AmzDate = "20150830T123600Z";
    private const string Scope = "20150830/us-east-1/service/aws4_request";
    private const string EmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    public static TheoryData<string, string, string, string?, string, string, string> Vectors => new()
    {
        // name, method, path, raw query, extra headers ("name:value|name:value", repeated names allowed), body, signature
        { "get-vanilla", "GET", "/", null, "", "", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
        { "get-unreserved", "GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", null, "", "", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f" },
        { "get-slashes", "GET", "//example//", null, "", "", "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84" },
        { "get-vanilla-query-order-key-case", "GET", "/", "Param2=value2&Param1=value1", "", "", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500" },
        { "get-vanilla-query-order-value", "GET", "/", "Param1=value2&Param1=value1", "", "", "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694" },
        { "get-vanilla-utf8-query", "GET", "/", "%E1%88%B4=bar", "", "", "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04" },
        { "get-header-value-order", "GET", "/", null, "my-header1:value4|my-header1:value1|my-header1:value3|my-header1:value2", "", "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01" },
        { "get-header-key-duplicate", "GET", "/", null, "my-header1:value2|my-header1:value2|my-header1:value1", "", "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea" },
        { "get-header-value-trim", "GET", "/", null, "my-header1: value1|my-header2:\"a   b   c\"", "", "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736" },
        { "post-x-www-form-urlencoded", "POST", "/", null, "content-type:application/x-www-form-urlencoded", "Param1=value1", "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a" },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void PublishedVector_SignsToItsPublishedSignature(string name, string method, string path, string? query, string extra, string body, string signature)
    {
        var headers = new Dictionary<string, List<string>>
        {
            ["host"] = ["example.amazonaws.com"],
            ["x-amz-date"] = [AmzDate],
        };
        foreach (var header in extra.Split('|', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = header.IndexOf(':');
            var key = header[..colon];
            if (!headers.TryGetValue(key, out var values))
            {
                headers[key] = values = [];
            }

            values.Add(header[(colon + 1)..]);
        }

        var signed = headers.Keys.Order(StringComparer.Ordinal).ToList();
        var canonical = SigV4.CanonicalRequest(method, path, query, signed, h => headers[h], SigV4.PayloadHash(System.Text.Encoding.UTF8.GetBytes(body)));
        var actual = SigV4.Signature(SigV4.SigningKey(Secret, "20150830", "us-east-1", "service"), SigV4.StringToSign(AmzDate, Scope, canonical));
        Assert.True(signature == actual, $"{name}: {actual}\n{canonical}");
    }

    [Fact]
    public void GetVanilla_CanonicalRequestAndStringToSign_AreThePublishedOnes()
    {
        var headers = new Dictionary<string, string[]> { ["host"] = ["example.amazonaws.com"], ["x-amz-date"] = [AmzDate] };
        var canonical = SigV4.CanonicalRequest("GET", "/", null, ["host", "x-amz-date"], h => headers[h], EmptyHash);
        Assert.Equal($"GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:{AmzDate}\n\nhost;x-amz-date\n{EmptyHash}", canonical);
        Assert.Equal($"AWS4-HMAC-SHA256\n{AmzDate}\n{Scope}\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            SigV4.StringToSign(AmzDate, Scope, canonical));
    }

    [Theory]
    [InlineData("/example space/", "/example%20space/")] // get-space
    [InlineData("/ሴ", "/%E1%88%B4")] // get-utf8
    [InlineData("/./", "/")] // get-slash-dot-slash
    [InlineData("/example/..", "/")] // get-relative
    [InlineData("/example1/example2/../..", "/")] // get-relative-relative
    [InlineData("/sns", "/sns")]
    [InlineData("/sns/", "/sns/")]
    public void CanonicalUri_FollowsTheSuite(string path, string expected) => Assert.Equal(expected, SigV4.CanonicalUri(path));

    [Theory]
    [InlineData("Param1", "Param1=")] // get-vanilla-empty-query-key
    [InlineData("q=a+b", "q=a%2Bb")]
    [InlineData("b&a=1", "a=1&b=")]
    [InlineData("a=1=2", "a=1%3D2")]
    public void CanonicalQuery_EncodesAndSorts(string query, string expected) => Assert.Equal(expected, SigV4.CanonicalQuery(query));
}
