using System.Text.Json;
using System.Text.Json.Nodes;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.Simulator;

namespace PushGateway.IntegrationTests.Sns;

/// <summary>The facade driven by the AWS SDK for JavaScript v3 (<c>@aws-sdk/client-sns</c>, js/sns-flow.mjs).</summary>
public sealed class SnsJavaScriptSdkTests(DeliveryGateway gateway) : IClassFixture<DeliveryGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RegistrationPublishPagingAuthAndTenancy()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var other = await gateway.NewProjectAsync(Ct);
        // The admin key may mint any project's keys.
        var keys = await SnsTools.CreateKeysAsync(gateway.Admin(), project.ProjectId, Ct);
        var otherKeys = await SnsTools.CreateKeysAsync(other.Client, other.ProjectId, Ct);
        Assert.NotEqual(keys.AccountId, otherKeys.AccountId);
        var account = gateway.Simulator.State.AddFcmServiceAccount(new FcmServiceAccountRequest { ProjectId = "sim-project" });
        var tokens = new[] { TestCredentials.FcmToken(), TestCredentials.FcmToken() };

        var result = await SnsTools.NodeAsync("sns-flow.mjs", new Dictionary<string, string>
        {
            ["SNS_ENDPOINT"] = SnsTools.EndpointUrl(gateway),
            ["SNS_KEY_ID"] = keys.AccessKeyId,
            ["SNS_SECRET"] = keys.SecretAccessKey,
            ["OTHER_KEY_ID"] = otherKeys.AccessKeyId,
            ["OTHER_SECRET"] = otherKeys.SecretAccessKey,
            ["OTHER_ACCOUNT"] = otherKeys.AccountId,
            ["FCM_SERVICE_ACCOUNT"] = account.ServiceAccountJson!,
            ["FCM_TOKENS"] = JsonSerializer.Serialize(tokens),
        }, Ct);
        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        var o = result.Json();

        var appArn = o["appArn"]!.GetValue<string>();
        Assert.Equal($"arn:aws:sns:eu-west-1:{keys.AccountId}:app/GCM/android-app", appArn);
        Assert.Equal("true", o["appAttributes"]!["Enabled"]!.GetValue<string>());
        Assert.Null(o["appAttributes"]!["PlatformCredential"]);
        var endpointArn = o["endpointArn"]!.GetValue<string>();
        Assert.Equal(endpointArn, o["sameArn"]!.GetValue<string>());
        Assert.Matches("^[0-9a-f-]{36}$", o["requestId"]!.GetValue<string>());
        Assert.Equal("InvalidParameterException", o["conflict"]!["name"]!.GetValue<string>());
        Assert.Equal(400, o["conflict"]!["status"]!.GetValue<int>());
        Assert.Equal(endpointArn, o["conflict"]!["recoveredArn"]!.GetValue<string>());
        Assert.Equal("u1-updated", o["attributes"]!["CustomUserData"]!.GetValue<string>());
        Assert.Equal(tokens[0], o["attributes"]!["Token"]!.GetValue<string>());

        // Both publishes reached the simulator, in the FCM v1 shape.
        await DeliveryGateway.WaitForMessageAsync(project.Client, Guid.Parse(o["v1MessageId"]!.GetValue<string>()), Ct);
        var v1 = JsonNode.Parse(Assert.Single(gateway.Simulator.State.GetReceived("fcm", tokens[0]).Items).Body!.Value.GetRawText())!["message"]!;
        Assert.Equal("Hello", v1["notification"]!["title"]!.GetValue<string>());
        Assert.Equal("42", v1["data"]!["orderId"]!.GetValue<string>());
        Assert.Equal("orders", v1["android"]!["notification"]!["channel_id"]!.GetValue<string>());
        var ttl = double.Parse(v1["android"]!["ttl"]!.GetValue<string>().TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(ttl, 100, 120);
        await DeliveryGateway.WaitForMessageAsync(project.Client, Guid.Parse(o["legacyMessageId"]!.GetValue<string>()), Ct);
        var legacy = JsonNode.Parse(Assert.Single(gateway.Simulator.State.GetReceived("fcm", tokens[1]).Items).Body!.Value.GetRawText())!["message"]!;
        Assert.Equal("Legacy", legacy["notification"]!["title"]!.GetValue<string>());
        Assert.Equal("7", legacy["data"]!["n"]!.GetValue<string>());
        Assert.Equal("ding", legacy["android"]!["notification"]!["sound"]!.GetValue<string>());
        Assert.Equal("c1", legacy["android"]!["collapse_key"]!.GetValue<string>());
        Assert.Equal("high", legacy["android"]!["priority"]!.GetValue<string>());

        // 105 endpoints: a page of 100 and one of 5, joined by NextToken.
        Assert.Equal([100, 5], o["pages"]!.AsArray().Select(n => n!.GetValue<int>()));
        Assert.Equal([appArn], o["applications"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(0, o["trailingSlashTopics"]!.GetValue<int>());

        Assert.Equal("SignatureDoesNotMatch", o["tampered"]!["name"]!.GetValue<string>());
        Assert.Equal(403, o["tampered"]!["status"]!.GetValue<int>());
        Assert.Equal("RequestExpired", o["skewed"]!["name"]!.GetValue<string>());
        Assert.Equal(400, o["skewed"]!["status"]!.GetValue<int>());
        Assert.Equal(403, o["unsigned"]!["status"]!.GetValue<int>());
        Assert.Contains("<Code>MissingAuthenticationToken</Code>", o["unsigned"]!["body"]!.GetValue<string>());
        Assert.Contains($"<RequestId>{o["unsigned"]!["requestIdHeader"]!.GetValue<string>()}</RequestId>", o["unsigned"]!["body"]!.GetValue<string>());
        Assert.Equal(403, o["unsignedGet"]!["status"]!.GetValue<int>());
        Assert.Contains("MissingAuthenticationToken", o["unsignedGet"]!["body"]!.GetValue<string>());
        // None of the refused requests created anything.
        Assert.Equal(0L, await gateway.ScalarAsync<long>(
            "SELECT count(*) FROM endpoints WHERE token IN ('tampered-aaaa', 'tampered-bbbb', 'skewed-token', 'unsigned-token')", Ct));

        Assert.Equal("AuthorizationErrorException", o["crossProject"]!["name"]!.GetValue<string>());
        Assert.Equal(403, o["crossProject"]!["status"]!.GetValue<int>());
        Assert.Equal("AuthorizationErrorException", o["crossProjectPublish"]!["name"]!.GetValue<string>());
        Assert.Equal("NotFoundException", o["spoofed"]!["name"]!.GetValue<string>());
        Assert.Equal("NotFoundException", o["spoofedSet"]!["name"]!.GetValue<string>());
        Assert.Single(gateway.Simulator.State.GetReceived("fcm", tokens[0]).Items);
        Assert.True(await gateway.ScalarAsync<bool>("SELECT enabled FROM endpoints WHERE token = @t", Ct, ("t", tokens[0])));
    }
}
