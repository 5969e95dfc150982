using System.Text;
using Microsoft.EntityFrameworkCore;
using PushGateway.Data;
using PushGateway.Endpoints;
using PushGateway.Hosting;

namespace PushGateway.Sns;

/// <summary>
/// Platform endpoints: the registry's endpoints (<see cref="EndpointRegistry"/>), with its SNS create semantics,
/// token rules (<see cref="Tokens"/>) and attribute limits. An endpoint ARN ends in the endpoint's id.
/// </summary>
internal static class EndpointActions
{
    private const int MaxCustomUserDataBytes = 2048;

    public static async Task<byte[]> CreateAsync(SnsContext context, QueryParameters p, IServiceProvider services, CancellationToken cancellationToken)
    {
        var appArn = p.Required("PlatformApplicationArn");
        var token = p.Required("Token");
        var attributes = p.Map("Attributes") ?? new Dictionary<string, string>();
        var db = services.GetRequiredService<PushGatewayDbContext>();
        var app = await PlatformApplicationActions.FindAsync(db, context, appArn, tracked: false, cancellationToken);

        CheckAttributeNames(attributes, allowToken: false);
        // The attribute wins over the parameter, as on SNS.
        var customUserData = attributes.TryGetValue("CustomUserData", out var fromAttribute) ? new Optional<string>(true, fromAttribute)
            : p.Get("CustomUserData") is { } fromParameter ? new Optional<string>(true, fromParameter)
            : Optional<string>.Unset;
        bool? enabled = attributes.TryGetValue("Enabled", out var enabledText) ? PlatformApplicationActions.ParseBoolean("Enabled", enabledText) : null;
        var normalized = CheckToken(app.Platform, token);
        CheckCustomUserData(customUserData);

        var registry = services.GetRequiredService<EndpointRegistry>();
        var result = await registry.CreateAsync(app, normalized, customUserData, enabled, Optional<string>.Unset, cancellationToken);
        var endpointId = result switch
        {
            CreateResult.Created c => c.Endpoint.Id,
            CreateResult.Existing e => e.Endpoint.Id,
            // Byte for byte what SNS says: client code recovers the ARN from this message with a regular expression.
            CreateResult.Conflict c => throw SnsException.InvalidParameter("Token",
                $"Endpoint {SnsArn.ForEndpoint(context, app, c.ExistingId)} already exists with the same Token, but different attributes."),
            _ => throw new InvalidOperationException(),
        };
        return Result(context, w => SnsXml.Element(w, "EndpointArn", SnsArn.ForEndpoint(context, app, endpointId)));
    }

    public static async Task<byte[]> GetAttributesAsync(SnsContext context, QueryParameters p, IServiceProvider services, CancellationToken cancellationToken)
    {
        var id = SnsArn.Parse(p.Required("EndpointArn"), "EndpointArn", context).AsEndpoint("EndpointArn");
        var db = services.GetRequiredService<PushGatewayDbContext>();
        var endpoint = await db.Endpoints.AsNoTracking().FirstOrDefaultAsync(e => e.Id == id && e.ProjectId == context.ProjectId, cancellationToken)
            ?? throw SnsException.NotFound("Endpoint does not exist");
        return Result(context, w => SnsXml.Map(w, "Attributes", Attributes(endpoint)));
    }

    public static async Task<byte[]> SetAttributesAsync(SnsContext context, QueryParameters p, IServiceProvider services, CancellationToken cancellationToken)
    {
        var arn = p.Required("EndpointArn");
        var attributes = p.Map("Attributes") ?? throw SnsException.MissingMember("attributes");
        var id = SnsArn.Parse(arn, "EndpointArn", context).AsEndpoint("EndpointArn");
        CheckAttributeNames(attributes, allowToken: true);
        var db = services.GetRequiredService<PushGatewayDbContext>();
        var platform = await db.Endpoints.AsNoTracking()
            .Where(e => e.Id == id && e.ProjectId == context.ProjectId)
            .Join(db.Applications, e => e.ApplicationId, a => a.Id, (e, a) => a.Platform)
            .FirstOrDefaultAsync(cancellationToken)
            ?? throw SnsException.NotFound("Endpoint does not exist");

        var token = attributes.TryGetValue("Token", out var tokenText) ? new Optional<string>(true, CheckToken(platform, tokenText)) : Optional<string>.Unset;
        var customUserData = attributes.TryGetValue("CustomUserData", out var data) ? new Optional<string>(true, data) : Optional<string>.Unset;
        bool? enabled = attributes.TryGetValue("Enabled", out var enabledText) ? PlatformApplicationActions.ParseBoolean("Enabled", enabledText) : null;
        CheckCustomUserData(customUserData);

        var registry = services.GetRequiredService<EndpointRegistry>();
        var result = await registry.PatchAsync(context.ProjectId, id, new EndpointRegistry.Patch(token, enabled, customUserData, Optional<string>.Unset), cancellationToken);
        switch (result)
        {
            case EndpointRegistry.PatchResult.Updated:
                return Result(context, null);
            case EndpointRegistry.PatchResult.TokenTaken taken:
                var app = await db.Endpoints.AsNoTracking().Where(e => e.Id == id)
                    .Join(db.Applications, e => e.ApplicationId, a => a.Id, (e, a) => a).FirstAsync(cancellationToken);
                throw SnsException.InvalidParameter("Token", $"Endpoint {SnsArn.ForEndpoint(context, app, taken.HolderId)} of this application already has this Token.");
            default:
                throw SnsException.NotFound("Endpoint does not exist");
        }
    }

    public static async Task<byte[]> DeleteAsync(SnsContext context, QueryParameters p, IServiceProvider services, CancellationToken cancellationToken)
    {
        var id = SnsArn.Parse(p.Required("EndpointArn"), "EndpointArn", context).AsEndpoint("EndpointArn");
        // Idempotent, as on SNS: deleting what is not there succeeds.
        await services.GetRequiredService<EndpointRegistry>().DeleteAsync(context.ProjectId, id, cancellationToken);
        return Result(context, null);
    }

    public static async Task<byte[]> ListAsync(SnsContext context, QueryParameters p, IServiceProvider services, CancellationToken cancellationToken)
    {
        var appArn = p.Required("PlatformApplicationArn");
        var after = SnsActions.ReadNextToken(p);
        var db = services.GetRequiredService<PushGatewayDbContext>();
        var app = await PlatformApplicationActions.FindAsync(db, context, appArn, tracked: false, cancellationToken);
        var query = db.Endpoints.AsNoTracking().Where(e => e.ApplicationId == app.Id);
        if (after is { } last)
        {
            query = query.Where(e => e.Id > last);
        }

        var page = await query.OrderBy(e => e.Id).Take(SnsActions.PageSize + 1).ToListAsync(cancellationToken);
        var next = page.Count > SnsActions.PageSize ? Cursor.Encode(page[SnsActions.PageSize - 1].Id) : null;
        return Result(context, w =>
        {
            SnsXml.List(w, "Endpoints", page.Take(SnsActions.PageSize), (m, endpoint) =>
            {
                SnsXml.Element(m, "EndpointArn", SnsArn.ForEndpoint(context, app, endpoint.Id));
                SnsXml.Map(m, "Attributes", Attributes(endpoint));
            });
            SnsXml.ElementIf(w, "NextToken", next);
        });
    }

    private static IEnumerable<KeyValuePair<string, string>> Attributes(PlatformEndpoint endpoint)
    {
        yield return new("Enabled", endpoint.Enabled ? "true" : "false");
        yield return new("Token", endpoint.Token);
        if (endpoint.CustomUserData is { } data)
        {
            yield return new("CustomUserData", data);
        }
    }

    private static void CheckAttributeNames(IReadOnlyDictionary<string, string> attributes, bool allowToken)
    {
        foreach (var key in attributes.Keys)
        {
            if (key is not ("CustomUserData" or "Enabled") && !(allowToken && key == "Token"))
            {
                throw SnsException.InvalidParameter("Attributes", $"Invalid attribute name: {key}");
            }
        }
    }

    /// <summary>The registry's token rules (APNs hex, stored lower-case; FCM printable ASCII).</summary>
    private static string CheckToken(string platform, string token)
    {
        var v = new Validation();
        var normalized = EndpointsEndpoints.CheckToken(platform, token, v);
        return v.IsValid ? normalized : throw SnsException.InvalidParameter("Token", string.Join(" ", v.ToDetails().Errors.SelectMany(e => e.Value)));
    }

    private static void CheckCustomUserData(Optional<string> customUserData)
    {
        if (customUserData is { IsSet: true, Value: { } data })
        {
            if (Encoding.UTF8.GetByteCount(data) > MaxCustomUserDataBytes)
            {
                throw SnsException.InvalidParameter("Attributes", "Invalid value for attribute: CustomUserData: must be at most 2048 bytes long in UTF-8 encoding");
            }

            var v = new Validation();
            EndpointsEndpoints.CheckAttributes(customUserData, Optional<string>.Unset, v);
            if (!v.IsValid)
            {
                throw SnsException.InvalidParameter("Attributes", "Invalid value for attribute: CustomUserData: " + string.Join(" ", v.ToDetails().Errors.SelectMany(e => e.Value)));
            }
        }
    }

    private static byte[] Result(SnsContext context, Action<System.Xml.XmlWriter>? result) => SnsXml.Success(context.Action, context.RequestId, result);
}
