using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using PushGateway.Messages;

namespace PushGateway.WebConsole.Pages;

public sealed class SendModel : ConsolePage
{
    private MessageAcceptor acceptor => Service<MessageAcceptor>();

    private Quota.SendQuota quota => Service<Quota.SendQuota>();

    internal static readonly (string Value, string Label)[] Kinds = [("endpoint", "Endpoint"), ("user", "User"), ("topic", "Topic")];

    [BindProperty(SupportsGet = true)]
    public string Kind { get; set; } = "endpoint";

    [BindProperty(SupportsGet = true)]
    public string? Target { get; set; }

    [BindProperty]
    public string? Title { get; set; } = "Test push";

    [BindProperty]
    public string? Body { get; set; } = "Sent from the PushGateway console";

    [BindProperty]
    public string? Data { get; set; }

    public void OnGet()
    {
    }

    /// <summary>Builds the same JSON a backend would POST to /v1/messages and hands it to that route's handler.</summary>
    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var target = new JsonObject();
        switch (Kind)
        {
            case "user":
                target["userId"] = Target;
                break;
            case "topic":
                target["topic"] = Target;
                break;
            default:
                Kind = "endpoint";
                target["endpointId"] = Target?.Trim();
                break;
        }

        var message = new JsonObject
        {
            ["target"] = target,
            ["notification"] = new JsonObject { ["title"] = Title, ["body"] = string.IsNullOrEmpty(Body) ? null : Body },
        };
        if (!string.IsNullOrWhiteSpace(Data))
        {
            try
            {
                message["data"] = JsonNode.Parse(Data);
            }
            catch (JsonException)
            {
                Errors = ["data: Not valid JSON."];
                return Page();
            }
        }

        var result = RestCall.Read<MessageAccepted>(await MessagesEndpoints.SendAsync(
            RestCall.JsonRequest(HttpContext, message), Scope, acceptor, quota, cancellationToken));
        if (!result.Succeeded || result.Value is null)
        {
            Errors = result.Messages;
            Response.StatusCode = result.Problem?.Status ?? StatusCodes.Status400BadRequest;
            return Page();
        }

        return LocalRedirect($"/console/messages/{result.Value.Id}");
    }
}
