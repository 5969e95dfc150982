using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PushGateway.Data;
using PushGateway.Hosting;

namespace PushGateway.WebConsole;

/// <summary>
/// A console session: who signed in (the admin, or one API key of one project), never the key itself. Every request
/// checks again that the key still stands (one primary-key lookup), so revoking a key ends its sessions at once.
/// </summary>
internal static class ConsoleSession
{
    public const string KindClaim = "pg:kind";
    public const string ProjectClaim = "pg:project";
    public const string KeyClaim = "pg:key";
    public const string AdminFingerprintClaim = "pg:admin";
    public const string AdminKind = "admin";
    public const string ProjectKind = "project";

    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    /// <summary>Signs in with the presented key; false when it is neither the admin key nor an unrevoked API key.</summary>
    public static async Task<KeyIdentity?> SignInAsync(HttpContext context, string presented)
    {
        var identity = await ApiKeyAuth.IdentifyAsync(context.RequestServices, presented.Trim(), context.RequestAborted);
        if (identity is null)
        {
            return null;
        }

        var claims = new List<Claim>();
        if (identity.IsAdmin)
        {
            var options = context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value;
            claims.Add(new Claim(KindClaim, AdminKind));
            claims.Add(new Claim(AdminFingerprintClaim, ApiKeyAuth.AdminKeyFingerprint(options)));
            claims.Add(new Claim(ClaimTypes.Name, "admin"));
        }
        else
        {
            var db = context.RequestServices.GetRequiredService<PushGatewayDbContext>();
            var projectName = await db.Projects.AsNoTracking().Where(p => p.Id == identity.ProjectId).Select(p => p.Name).FirstAsync(context.RequestAborted);
            claims.Add(new Claim(KindClaim, ProjectKind));
            claims.Add(new Claim(ProjectClaim, identity.ProjectId!.Value.ToString()));
            claims.Add(new Claim(KeyClaim, identity.KeyId!.Value.ToString()));
            claims.Add(new Claim(ClaimTypes.Name, projectName));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, ConsoleSetup.Scheme));
        await context.SignInAsync(ConsoleSetup.Scheme, principal, new AuthenticationProperties { IsPersistent = false });
        return identity;
    }

    public static ProjectScope? Scope(ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(ProjectClaim), out var projectId) ? new ProjectScope(projectId) : null;

    public static bool IsAdmin(ClaimsPrincipal user) => user.FindFirstValue(KindClaim) == AdminKind;

    /// <summary>Cookie validation on every request: the key must still be unrevoked (or the admin key unchanged).</summary>
    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var user = context.Principal!;
        bool valid;
        if (IsAdmin(user))
        {
            var options = context.HttpContext.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value;
            valid = user.FindFirstValue(AdminFingerprintClaim) == ApiKeyAuth.AdminKeyFingerprint(options);
        }
        else if (Scope(user) is { } scope && Guid.TryParse(user.FindFirstValue(KeyClaim), out var keyId))
        {
            var db = context.HttpContext.RequestServices.GetRequiredService<PushGatewayDbContext>();
            valid = await db.ApiKeys.AsNoTracking().AnyAsync(k => k.Id == keyId && k.ProjectId == scope.ProjectId && k.RevokedAt == null,
                context.HttpContext.RequestAborted);
        }
        else
        {
            valid = false;
        }

        if (!valid)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(ConsoleSetup.Scheme);
        }
    }
}
