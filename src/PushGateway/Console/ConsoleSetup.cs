using System.Reflection;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using PushGateway.Data;

namespace PushGateway.WebConsole;

/// <summary>
/// The operator console at <c>/console</c>: Razor Pages rendered on the server, a session cookie made from a project
/// API key or the admin key, antiforgery on every form, a strict Content-Security-Policy, and data-protection keys in
/// PostgreSQL so every replica reads every replica's cookies. (Namespace WebConsole: a PushGateway.Console namespace
/// would shadow System.Console in the rest of the gateway.)
/// </summary>
internal static class ConsoleSetup
{
    public const string PathBase = "/console";
    public const string Scheme = "Console";
    public const string ProjectPolicy = "console-project";
    public const string AdminPolicy = "console-admin";

    /// <summary>No inline script or style, nothing from elsewhere, no framing, forms post only here.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static IServiceCollection AddConsole(this IServiceCollection services)
    {
        services.AddRazorPages(o =>
        {
            o.RootDirectory = "/Console/Pages";
            o.Conventions.AuthorizeFolder("/Project", ProjectPolicy);
            o.Conventions.AuthorizeFolder("/Admin", AdminPolicy);
        }).ConfigureApplicationPartManager(AddGatewayPages);
        services.AddDataProtection().SetApplicationName("PushGateway").PersistKeysToDbContext<PushGatewayDbContext>();
        services.AddAuthentication(Scheme).AddCookie(Scheme, o =>
        {
            o.Cookie.Name = "pushgateway_console";
            o.Cookie.Path = PathBase;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = ConsoleSession.Lifetime;
            o.SlidingExpiration = false;
            o.LoginPath = PathBase + "/signin";
            o.LogoutPath = PathBase + "/signout";
            o.AccessDeniedPath = PathBase + "/denied";
            o.ReturnUrlParameter = "returnUrl";
            o.Events = new CookieAuthenticationEvents { OnValidatePrincipal = ConsoleSession.ValidateAsync };
        });
        services.AddAuthorization(o =>
        {
            o.AddPolicy(ProjectPolicy, p => p.AddAuthenticationSchemes(Scheme).RequireClaim(ConsoleSession.ProjectClaim));
            o.AddPolicy(AdminPolicy, p => p.AddAuthenticationSchemes(Scheme).RequireClaim(ConsoleSession.KindClaim, ConsoleSession.AdminKind));
        });
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "pushgateway_console_af";
            o.Cookie.Path = PathBase;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddScoped<ConsoleQueries>();
        return services;
    }

    /// <summary>
    /// Razor Pages are found in the entry assembly; when the gateway is hosted by another program (the integration
    /// tests), its own assembly and compiled pages are added here.
    /// </summary>
    private static void AddGatewayPages(ApplicationPartManager manager)
    {
        var assembly = typeof(ConsoleSetup).Assembly;
        if (manager.ApplicationParts.Any(p => p is AssemblyPart part && part.Assembly == assembly))
        {
            return;
        }

        foreach (var part in ApplicationPartFactory.GetApplicationPartFactory(assembly).GetApplicationParts(assembly))
        {
            manager.ApplicationParts.Add(part);
        }
    }

    /// <summary>Security headers, then the session, for console paths only (the API keeps its bearer keys).</summary>
    public static IApplicationBuilder UseConsole(this IApplicationBuilder app) =>
        app.UseWhen(c => c.Request.Path.StartsWithSegments(PathBase), branch =>
        {
            branch.Use((context, next) =>
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                if (!context.Request.Path.StartsWithSegments(PathBase + "/assets"))
                {
                    // Pages can show a just-created API key: never keep one in a cache.
                    headers.CacheControl = "no-store";
                }

                return next(context);
            });
            branch.UseAuthentication();
            branch.UseAuthorization();
        });

    public static void MapConsole(this IEndpointRouteBuilder routes)
    {
        routes.MapRazorPages();
        routes.MapGet(PathBase + "/assets/{name}", ServeAsset).AllowAnonymous().ExcludeFromDescription();
    }

    private static IResult ServeAsset(string name, HttpContext context)
    {
        var contentType = Path.GetExtension(name) switch
        {
            ".css" => "text/css; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            _ => null,
        };
        var stream = contentType is null || name.Contains('/') ? null
            : Assembly.GetExecutingAssembly().GetManifestResourceStream("PushGateway.Console.Assets." + name);
        if (stream is null)
        {
            return Results.NotFound();
        }

        context.Response.Headers.CacheControl = "public, max-age=3600";
        return Results.Stream(stream, contentType);
    }
}
