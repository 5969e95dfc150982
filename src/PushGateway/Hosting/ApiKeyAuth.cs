using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Npgsql;

namespace PushGateway.Hosting;

/// <summary>
/// Which key a route needs; put on route groups with <see cref="ApiKeyAuth.RequireAdminKey"/> /
/// <see cref="ApiKeyAuth.RequireProjectKey"/>. A route under <c>/v1</c> that declares neither needs
/// <see cref="Any"/> valid key, unless it opts out with <c>.AllowAnonymous()</c>.
/// </summary>
internal enum KeyKind
{
    Admin,
    Project,
    /// <summary>The admin key or a project key, declared on purpose (the handler checks a project key's own project).</summary>
    AdminOrProject,
    Any,
}

internal sealed record RequiredKey(KeyKind Kind);

/// <summary>Who a presented key belongs to: the administrator, or one API key of one project.</summary>
internal sealed record KeyIdentity(bool IsAdmin, Guid? ProjectId, Guid? KeyId);

/// <summary>The project a request acts in; bound from what the authentication middleware found.</summary>
internal sealed record ProjectScope(Guid ProjectId)
{
    public static ValueTask<ProjectScope?> BindAsync(HttpContext context) =>
        ValueTask.FromResult(context.Items[typeof(ProjectScope)] as ProjectScope);
}

internal static class ApiKeyAuth
{
    public const string KeyPrefix = "pgk_";

    /// <summary>Everything under this prefix needs a key by default: a route added without a key requirement is not public.</summary>
    public const string ApiPrefix = "/v1";

    private static readonly RequiredKey AnyKey = new(KeyKind.Any);

    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequiredKey(KeyKind.Admin));

    public static TBuilder RequireProjectKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequiredKey(KeyKind.Project));

    public static TBuilder RequireAdminOrProjectKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequiredKey(KeyKind.AdminOrProject));

    /// <summary>A new random project key: shown to the caller once, stored only as <see cref="Hash"/>.</summary>
    public static string NewKey() => KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// The key a matched endpoint needs: what it declares, else any valid key under <see cref="ApiPrefix"/> (the
    /// default is closed, so forgetting <see cref="RequireProjectKey"/> on a new route cannot make it public), else
    /// none. <see cref="IAllowAnonymous"/> (<c>.AllowAnonymous()</c>) is the explicit opt-out.
    /// </summary>
    internal static RequiredKey? RequiredFor(Endpoint? endpoint, PathString path)
    {
        if (endpoint is null)
        {
            return null;
        }

        if (endpoint.Metadata.GetMetadata<RequiredKey>() is { } declared)
        {
            return declared;
        }

        return endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null && path.StartsWithSegments(ApiPrefix, StringComparison.OrdinalIgnoreCase)
            ? AnyKey
            : null;
    }

    /// <summary>
    /// For the open operations routes that show more to the operator: null when the request carries no key, true
    /// for the admin key, false for any other key (a project key is not enough). Never touches the database.
    /// </summary>
    internal static bool? PresentsAdminKey(HttpContext context)
    {
        var presented = ReadBearer(context.Request);
        if (presented is null)
        {
            return null;
        }

        var options = context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value;
        return options.AdminKey is { Length: > 0 } adminKey && FixedTimeEquals(presented, adminKey);
    }

    /// <summary>
    /// Checks the bearer key of every route that needs one (<see cref="RequiredFor"/>). Keys are looked up by hash
    /// through <see cref="ApiKeyCache"/>, which every replica empties of a revoked key at once.
    /// </summary>
    public static IApplicationBuilder UseApiKeyAuthentication(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var required = RequiredFor(context.GetEndpoint(), context.Request.Path);
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

        var identity = await IdentifyAsync(context.RequestServices, presented, context.RequestAborted);
        var isAdmin = identity?.IsAdmin == true;
        var projectId = identity?.ProjectId;

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

    /// <summary>
    /// Whose key this is: the admin key, a project's unrevoked API key (looked up by hash, indexed), or null. The API
    /// and the console's sign-in both ask here.
    /// </summary>
    internal static async Task<KeyIdentity?> IdentifyAsync(IServiceProvider services, string presented, CancellationToken cancellationToken)
    {
        var options = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        if (options.AdminKey is { Length: > 0 } adminKey && FixedTimeEquals(presented, adminKey))
        {
            return new KeyIdentity(true, null, null);
        }

        if (!presented.StartsWith(KeyPrefix, StringComparison.Ordinal) || presented.Length >= 200)
        {
            return null;
        }

        var hash = Hash(presented);
        var cache = services.GetRequiredService<ApiKeyCache>();
        if (cache.Find(hash) is { } cached)
        {
            return cached;
        }

        var generation = cache.Generation;
        await using var command = services.GetRequiredService<NpgsqlDataSource>().CreateCommand(
            "SELECT project_id, id FROM api_keys WHERE key_hash = @h AND revoked_at IS NULL");
        command.Parameters.Add(new NpgsqlParameter<string>("h", hash));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var identity = new KeyIdentity(false, reader.GetGuid(0), reader.GetGuid(1));
        cache.Add(hash, identity, generation);
        return identity;
    }

    /// <summary>A short fingerprint of the configured admin key, so a session can tell when that key was changed.</summary>
    internal static string AdminKeyFingerprint(GatewayOptions options) => Hash("console-session:" + options.AdminKey)[..16];

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
