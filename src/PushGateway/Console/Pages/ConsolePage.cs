using Microsoft.AspNetCore.Mvc.RazorPages;
using PushGateway.Hosting;

namespace PushGateway.WebConsole.Pages;

/// <summary>A console page: the last action's errors and notice, and the signed-in project (its folder's policy guarantees the claim).</summary>
public abstract class ConsolePage : PageModel
{
    internal ProjectScope Scope => ConsoleSession.Scope(User) ?? throw new InvalidOperationException("No project in this session.");

    /// <summary>Errors of the last action, shown at the top of the page.</summary>
    public IReadOnlyList<string> Errors { get; protected set; } = [];

    /// <summary>What the last action did, shown at the top of the page.</summary>
    public string? Notice { get; protected set; }

    /// <summary>The gateway's services are internal, so pages take them from the request rather than a public constructor.</summary>
    protected T Service<T>() where T : notnull => HttpContext.RequestServices.GetRequiredService<T>();
}
