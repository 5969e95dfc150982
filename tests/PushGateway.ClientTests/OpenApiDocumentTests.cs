using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.ClientTests;

/// <summary>What a client generator relies on in /openapi/v1.json: names, keys, problems, examples, and nothing else.</summary>
public sealed class OpenApiDocumentTests(OpenApiDocumentTests.GatewayWithOtherAreas gateway) : IClassFixture<OpenApiDocumentTests.GatewayWithOtherAreas>
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Routes of other areas (an SNS facade, a console) beside the REST API, as other features map them.</summary>
    public sealed class GatewayWithOtherAreas : TestGateway
    {
        protected override void ConfigureApp(WebApplication app)
        {
            app.MapPost("/sns", () => Results.Ok());
            app.MapGet("/console/{**path}", () => Results.Ok());
        }
    }

    private async Task<JsonObject> DocumentAsync()
    {
        using var client = gateway.Client();
        return (await client.GetFromJsonAsync<JsonObject>("openapi/v1.json", Ct))!;
    }

    private static IEnumerable<(string Path, string Method, JsonObject Operation)> Operations(JsonObject document) =>
        from path in document["paths"]!.AsObject()
        from method in path.Value!.AsObject()
        where Methods.Contains(method.Key)
        select (path.Key, method.Key, method.Value!.AsObject());

    [Fact]
    public async Task Document_DescribesOnlyTheRestApiAndTheOperationsRoutes()
    {
        var paths = (await DocumentAsync())["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("/v1/messages", paths);
        Assert.All(paths, p => Assert.True(p.StartsWith("/v1/", StringComparison.Ordinal) || p is "/v1" or "/healthz" or "/readyz" or "/metrics", $"{p} is not part of the REST API"));
    }

    [Fact]
    public async Task EveryOperation_HasAUniqueOperationIdASummaryADescribedTagAndSecurity()
    {
        var document = await DocumentAsync();
        var tags = document["tags"]!.AsArray().ToDictionary(t => t!["name"]!.GetValue<string>(), t => t!["description"]?.GetValue<string>());
        var operations = Operations(document).ToList();
        Assert.Equal(42, operations.Count);
        Assert.Equal(operations.Count, operations.Select(o => o.Operation["operationId"]?.GetValue<string>()).Distinct().Count(id => id is not null));
        foreach (var (path, method, operation) in operations)
        {
            var name = $"{method.ToUpperInvariant()} {path}";
            Assert.False(string.IsNullOrWhiteSpace(operation["summary"]?.GetValue<string>()), name + " has no summary");
            var tag = Assert.Single(operation["tags"]!.AsArray())!.GetValue<string>();
            Assert.True(tags.TryGetValue(tag, out var description) && !string.IsNullOrWhiteSpace(description), $"{name}: tag {tag} has no description");
            Assert.NotNull(operation["security"]);
        }

        var ids = operations.ToDictionary(o => o.Operation["operationId"]!.GetValue<string>(), o => $"{o.Method} {o.Path}");
        Assert.Equal("post /v1/applications/{appId}/endpoints", ids["createEndpoint"]);
        Assert.Equal("post /v1/applications/{appId}/registrations", ids["registerDevice"]);
        Assert.Equal("post /v1/messages", ids["sendMessage"]);
    }

    [Fact]
    public async Task Security_NamesTheKeyEachRouteNeeds_AndItsAnswersWithout()
    {
        var document = await DocumentAsync();
        var schemes = document["components"]!["securitySchemes"]!.AsObject();
        Assert.Equal("bearer", schemes["adminKey"]!["scheme"]!.GetValue<string>());
        Assert.Equal("bearer", schemes["projectKey"]!["scheme"]!.GetValue<string>());
        foreach (var (path, method, operation) in Operations(document))
        {
            var name = $"{method.ToUpperInvariant()} {path}";
            var security = operation["security"]!.AsArray().Select(r => string.Join(",", r!.AsObject().Select(s => s.Key))).ToList();
            var expected = path.Contains("/sns-credentials", StringComparison.Ordinal) ? ["adminKey", "projectKey"]
                : path.StartsWith("/v1/projects", StringComparison.Ordinal) ? ["adminKey"]
                : path.StartsWith("/v1/", StringComparison.Ordinal) ? ["projectKey"]
                : path == "/healthz" ? [""]
                : new[] { "", "adminKey" };
            Assert.True(expected.SequenceEqual(security), $"{name}: security {string.Join(" | ", security)}");
            var responses = operation["responses"]!.AsObject();
            if (path.StartsWith("/v1/", StringComparison.Ordinal))
            {
                Assert.True(responses.ContainsKey("401") && responses.ContainsKey("403") && responses.ContainsKey("503"), name + " lacks 401/403/503");
            }
        }
    }

    [Fact]
    public async Task ProblemResponses_UseOneProblemSchema_WithItsErrorsMap()
    {
        var document = await DocumentAsync();
        var problem = document["components"]!["schemas"]!["ProblemDetails"]!.AsObject();
        Assert.Equal("integer", problem["properties"]!["status"]!["type"]!.GetValue<string>());
        Assert.Equal("array", problem["properties"]!["errors"]!["additionalProperties"]!["type"]!.GetValue<string>());
        var problems = 0;
        foreach (var (path, method, operation) in Operations(document))
        {
            foreach (var (status, response) in operation["responses"]!.AsObject())
            {
                var content = response!["content"]?.AsObject();
                if (status[0] != '4' || content is null)
                {
                    continue;
                }

                problems++;
                var schema = content["application/problem+json"]?["schema"]?["$ref"]?.GetValue<string>();
                Assert.True(schema == "#/components/schemas/ProblemDetails", $"{method.ToUpperInvariant()} {path} {status}: {content.ToJsonString()}");
                Assert.False(string.IsNullOrWhiteSpace(response["description"]?.GetValue<string>()));
            }
        }

        Assert.True(problems > 100, $"only {problems} problem responses");
        var send = Operations(document).Single(o => o.Operation["operationId"]!.GetValue<string>() == "sendMessage").Operation["responses"]!.AsObject();
        Assert.Equal(["202", "400", "401", "403", "404", "409", "413", "415", "422", "429", "503"], send.Select(r => r.Key).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("createProject", "201")]
    [InlineData("createApiKey", "201")]
    [InlineData("createApplication", "201")]
    [InlineData("registerDevice", "201")]
    [InlineData("sendMessage", "202")]
    [InlineData("getMessage", "200")]
    [InlineData("listDeliveries", "200")]
    [InlineData("listTopics", "200")]
    public async Task MainRoutes_HaveExamples(string operationId, string status)
    {
        var operation = Operations(await DocumentAsync()).Single(o => o.Operation["operationId"]!.GetValue<string>() == operationId).Operation;
        Assert.NotNull(operation["responses"]![status]!["content"]!["application/json"]!["example"]);
        if (operation["requestBody"] is { } body)
        {
            Assert.NotNull(body["content"]!["application/json"]!["example"]);
        }
    }
}
