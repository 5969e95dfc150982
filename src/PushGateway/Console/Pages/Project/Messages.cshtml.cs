using Microsoft.AspNetCore.Mvc;

namespace PushGateway.WebConsole.Pages;

public sealed class MessagesModel : ConsolePage
{
    [BindProperty(SupportsGet = true)]
    public string? Id { get; set; }

    public IActionResult OnGet()
    {
        if (Id is null)
        {
            return Page();
        }

        if (Guid.TryParse(Id.Trim(), out var id))
        {
            return LocalRedirect($"/console/messages/{id}");
        }

        Errors = ["id: Not a message id."];
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
