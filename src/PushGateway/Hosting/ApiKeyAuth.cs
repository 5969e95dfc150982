using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PushGateway.Data;

namespace PushGateway.Hosting;

/// <summary>Which key a route needs; put on route groups with <see cref="ApiKeyAuth.RequireAdminKey"/> / <see cref="ApiKeyAuth.RequireProjectKey"/>.</summary>
internal enum KeyKind
{
    Admin,
    Project,
}

internal sealed record RequiredKey(KeyKind Kind);

/// <summary>The project a request acts in; bound from what the authentication middleware found.</summary>
internal sealed record ProjectScope(Guid ProjectId)
{
    public static ValueTask<ProjectScope?> BindAsync(HttpContext context) =>
        ValueTask.FromResult(context.Items[typeof(ProjectScope)] as ProjectScope);
}

internal static class ApiKeyAuth
{
    public const string KeyPrefix = "pgk_";

    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequiredKey(KeyKind.Admin));

    public static TBuilder RequireProjectKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequiredKey(KeyKind.Project));

    /// <summary>A new random project key: shown to the caller once, stored only as <see cref="Hash"/>.</summary>
    public static string NewKey() => KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// Checks the bearer key of every route that declares <see cref="RequiredKey"/>. Keys are looked up on every
    /// request (by hash, indexed), so a revoked key stops working at once.
    /// </summary>
    public static IApplicationBuilder UseApiKeyAuthentication(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var required = context.GetEndpoint()?.Metadata.GetMetadata<RequiredKey>();
        if (required is null)
        {
            await next(context);
            return;
        }

        var presented = ReadBearer(context.Request);
        if (presented is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Problems.Unauthorized("Send Authorization: Bearer <key>.").ExecuteAsync(context);
            return;
        }

        var options = context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value;
        var isAdmin = options.AdminKey is { Length: > 0 } adminKey && FixedTimeEquals(presented, adminKey);
        Guid? projectId = null;
        if (!isAdmin && presented.StartsWith(KeyPrefix, StringComparison.Ordinal) && presented.Length < 200)
        {
            var db = context.RequestServices.GetRequiredService<PushGatewayDbContext>();
            var hash = Hash(presented);
            projectId = await db.ApiKeys.AsNoTracking()
                .Where(k => k.KeyHash == hash && k.RevokedAt == null)
                .Select(k => (Guid?)k.ProjectId)
                .FirstOrDefaultAsync(context.RequestAborted);
        }

        if (!isAdmin && projectId is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
            await Problems.Unauthorized("The key is unknown or revoked.").ExecuteAsync(context);
            return;
        }

        if (required.Kind == KeyKind.Admin && !isAdmin)
        {
            await Problems.Forbidden("This route needs the admin key.").ExecuteAsync(context);
            return;
        }

        if (required.Kind == KeyKind.Project && projectId is null)
        {
            await Problems.Forbidden("This route needs a project API key; the admin key manages projects and keys only.").ExecuteAsync(context);
            return;
        }

        if (projectId is { } id)
        {
            context.Items[typeof(ProjectScope)] = new ProjectScope(id);
        }

        await next(context);
    });

    private static string? ReadBearer(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var key = header[scheme.Length..].Trim();
        return key.Length == 0 ? null : key;
    }

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(a)), SHA256.HashData(Encoding.UTF8.GetBytes(b)));
}
