using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace PushGateway.Hosting;

/// <summary>Request and response examples of the main routes (the README's flow), by operationId.</summary>
internal static class ApiExamples
{
    private const string ProjectId = "0193f0a4-6c1e-7c3a-9a51-3f2b8e7d1c01";
    private const string AppId = "0193f0a4-8d27-7e10-b2c4-5a6f7e8d9c02";
    private const string EndpointId = "0193f0a5-0a11-7b42-8e3f-1c2d3e4f5a03";
    private const string MessageId = "0193f0a5-3b9c-7d55-a1b2-c3d4e5f6a704";
    private const string Token = "6d1c0e3b8a5f42e79c0b1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a";

    private sealed record Example(string? Request, IReadOnlyDictionary<string, string> Responses);

    private static readonly Dictionary<string, Example> ByOperation = new(StringComparer.Ordinal)
    {
        ["createProject"] = new("""{"name":"demo"}""", new Dictionary<string, string>
        {
            ["201"] = $$"""{"id":"{{ProjectId}}","name":"demo","createdAt":"2026-01-15T09:30:00+00:00"}""",
        }),
        ["createApiKey"] = new("""{"name":"backend"}""", new Dictionary<string, string>
        {
            ["201"] = """{"id":"0193f0a4-7a2b-7f00-8c9d-0e1f2a3b4c05","name":"backend","key":"pgk_3q2-xW9vYk1TnA0bZc8dE7fG6hJ5kL4mN3pQ2rS1tU0","prefix":"pgk_3q2-xW9v","createdAt":"2026-01-15T09:30:01+00:00"}""",
        }),
        ["createApplication"] = new("""
            {"name":"ios","platform":"apns","environment":"sandbox",
             "credentials":{"type":"token","teamId":"ABCDE12345","keyId":"ABC123DEFG","privateKey":"-----BEGIN PRIVATE KEY-----\n…\n-----END PRIVATE KEY-----\n","bundleId":"com.example.app"}}
            """, new Dictionary<string, string>
        {
            ["201"] = $$"""
                {"id":"{{AppId}}","projectId":"{{ProjectId}}","name":"ios","platform":"apns","environment":"sandbox",
                 "credentials":{"type":"token","teamId":"ABCDE12345","keyId":"ABC123DEFG","bundleId":"com.example.app"},
                 "events":null,"enabled":true,"disabledReason":null,"disabledAt":null,
                 "createdAt":"2026-01-15T09:31:00+00:00","updatedAt":"2026-01-15T09:31:00+00:00"}
                """,
        }),
        ["registerDevice"] = new($$"""{"token":"{{Token}}","userId":"alice"}""", new Dictionary<string, string>
        {
            ["201"] = Registration("created"),
            ["200"] = Registration("unchanged"),
        }),
        ["createEndpoint"] = new($$"""{"token":"{{Token}}","userId":"alice"}""", new Dictionary<string, string>
        {
            ["201"] = EndpointJson,
        }),
        ["sendMessage"] = new("""{"target":{"userId":"alice"},"notification":{"title":"Hello","body":"from PushGateway"}}""", new Dictionary<string, string>
        {
            ["202"] = $$"""{"id":"{{MessageId}}","status":"accepted","targetCount":1}""",
            ["429"] = """
                {"type":"rate-limited","title":"Send quota exceeded.","status":429,
                 "detail":"The project may send 100 messages a second (Quota:MessagesPerSecond).","retryAfter":1}
                """,
        }),
        ["sendMessageBatch"] = new($$"""
            {"messages":[{"target":{"endpointId":"{{EndpointId}}"},"notification":{"title":"Your order shipped"} },
                         {"target":{"topic":"no-such-topic"},"notification":{"title":"News"} }]}
            """, new Dictionary<string, string>
        {
            ["202"] = $$"""
                {"items":[{"id":"{{MessageId}}","status":"accepted","targetCount":1},
                          {"error":{"type":"not-found","title":"Not found.","status":404,"detail":"Topic 'no-such-topic' does not exist."} }]}
                """,
        }),
        ["getMessage"] = new(null, new Dictionary<string, string>
        {
            ["200"] = $$"""
                {"id":"{{MessageId}}","status":"completed","createdAt":"2026-01-15T09:32:00+00:00","completedAt":"2026-01-15T09:32:00.12+00:00",
                 "expiresAt":"2026-02-14T09:32:00+00:00","counts":{"total":1,"pending":0,"delivered":1,"failed":0,"expired":0,"skipped":0} }
                """,
        }),
        ["listTopics"] = new(null, new Dictionary<string, string>
        {
            ["200"] = """{"items":[{"name":"news","createdAt":"2026-01-15T09:31:40+00:00","subscriptionCount":1200}],"nextCursor":"bmV3cw"}""",
        }),
        ["listDeliveries"] = new(null, new Dictionary<string, string>
        {
            ["200"] = $$"""
                {"items":[{"endpointId":"{{EndpointId}}","applicationId":"{{AppId}}","state":"delivered","attempts":1,
                  "lastAttemptAt":"2026-01-15T09:32:00.11+00:00","completedAt":"2026-01-15T09:32:00.12+00:00",
                  "provider":{"status":200,"reason":null,"id":"5e3c1b2a-9d8f-4e7a-b6c5-d4e3f2a1b0c9"} }],"nextCursor":null}
                """,
        }),
    };

    private const string EndpointJson = $$"""
        {"id":"{{EndpointId}}","applicationId":"{{AppId}}","token":"{{Token}}","enabled":true,"userId":"alice","customUserData":null,
         "createdAt":"2026-01-15T09:31:30+00:00","updatedAt":"2026-01-15T09:31:30+00:00","tokenUpdatedAt":"2026-01-15T09:31:30+00:00",
         "disabledAt":null,"disabledReason":null}
        """;

    private static string Registration(string outcome) => $$"""{"outcome":"{{outcome}}","endpoint":{{EndpointJson}}}""";

    public static void Apply(OpenApiOperation operation)
    {
        if (operation.OperationId is not { } id || !ByOperation.TryGetValue(id, out var example))
        {
            return;
        }

        if (example.Request is { } request && operation.RequestBody?.Content?.TryGetValue("application/json", out var body) == true)
        {
            body.Example = JsonNode.Parse(request);
        }

        foreach (var (status, json) in example.Responses)
        {
            if (operation.Responses?.TryGetValue(status, out var response) == true
                && (response.Content?.TryGetValue("application/json", out var content) == true
                    || response.Content?.TryGetValue("application/problem+json", out content) == true))
            {
                content.Example = JsonNode.Parse(json);
            }
        }
    }
}
