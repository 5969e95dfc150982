using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace PushGateway.WebConsole.Pages;

public sealed class SignInModel : PageModel
{
    public string? Error { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(string? key)
    {
        var identity = string.IsNullOrWhiteSpace(key) ? null : await ConsoleSession.SignInAsync(HttpContext, key);
        if (identity is null)
        {
            Error = "The key is unknown or revoked.";
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }

        if (ReturnUrl is { } url && Url.IsLocalUrl(url) && url.StartsWith(ConsoleSetup.PathBase + "/", StringComparison.Ordinal) && !identity.IsAdmin)
        {
            return LocalRedirect(url);
        }

        return LocalRedirect(identity.IsAdmin ? "/console/admin" : "/console");
    }
}
