using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using PushGateway.Applications;
using PushGateway.Data;
using PushGateway.Hosting;
using PushGateway.Messages;

namespace PushGateway.Sns;

/// <summary>
/// Platform applications, mapped onto the gateway's applications: <c>APNS</c> is an APNs application in production,
/// <c>APNS_SANDBOX</c> one in sandbox, <c>GCM</c> an FCM application (service-account JSON). Credentials go through
/// the same validation as the REST API (<see cref="Credentials.Validate"/>): keys and certificates must really parse.
/// </summary>
internal static class PlatformApplicationActions
{
    private static readonly HashSet<string> CredentialAttributes = ["PlatformCredential", "PlatformPrincipal", "ApplePlatformTeamID", "ApplePlatformBundleID"];

    private static readonly HashSet<string> UnsupportedAttributes =
    [
        "EventEndpointCreated", "EventEndpointDeleted", "EventEndpointUpdated", "EventDeliveryFailure",
        "SuccessFeedbackRoleArn", "FailureFeedbackRoleArn", "SuccessFeedbackSampleRate",
    ];

    public static async Task<byte[]> CreateAsync(SnsContext context, QueryParameters p, IServiceProvider services, CancellationToken cancellationToken)
    {
        var name = p.Required("Name");
        var platformName = p.Required("Platform");
        var attributes = p.Map("Attributes") ?? throw SnsException.MissingMember("attributes");
        CheckName(name);
        var (platform, environment) = ToGatewayPlatform(platformName)
            ?? throw SnsException.InvalidParameter("Platform", $"{platformName} is not supported");
        CheckAttributeNames(attributes, allowEnabled: false);
        var time = services.GetRequiredService<TimeProvider>();
        var secrets = services.GetRequiredService<SecretBox>();
        var db = services.GetRequiredService<PushGatewayDbContext>();
        var credentials = ValidateCredentials(platform, attributes, time);

        var now = time.UtcNow();
        var existing = await FindByNameAsync(db, context.ProjectId, platform, environment, name, tracked: true, cancellationToken);
        if (existing is not null)
        {
            // Creating an existing name again answers with its ARN; the credentials given replace the stored ones.
            ApplicationsEndpoints.ApplyCredentials(existing, credentials, secrets);
            await ApplicationsEndpoints.SaveChangesAsync(db, existing, now, services.GetRequiredService<DeliverySignal>(), cancellationToken);
            return Result(context, w => SnsXml.Element(w, "PlatformApplicationArn", SnsArn.ForApplication(context, existing)));
        }

        var application = ApplicationsEndpoints.NewApplication(context.ProjectId, name, platform, environment, credentials, secrets, now);
        db.Applications.Add(application);
        await db.SaveChangesAsync(cancellationToken);
        return Result(context, w => SnsXml.Element(w, "PlatformApplicationArn", SnsArn.ForApplication(context, application)));
    }

    public static async Task<byte[]> GetAttributesAsync(SnsContext context, QueryParameters p, IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<PushGatewayDbContext>();
        var app = await FindAsync(db, context, p.Required("PlatformApplicationArn"), tracked: false, cancellationToken);
        return Result(context, w => SnsXml.Map(w, "Attributes", Attributes(app)));
    }

    public static async Task<byte[]> SetAttributesAsync(SnsContext context, QueryParameters p, IServiceProvider services, CancellationToken cancellationToken)
    {
        var arn = p.Required("PlatformApplicationArn");
        var attributes = p.Map("Attributes") ?? throw SnsException.MissingMember("attributes");
        var db = services.GetRequiredService<PushGatewayDbContext>();
        var time = services.GetRequiredService<TimeProvider>();
        var app = await FindAsync(db, context, arn, tracked: true, cancellationToken);
        CheckAttributeNames(attributes, allowEnabled: true);

        // Everything is checked before anything changes.
        var credentials = attributes.Keys.Any(CredentialAttributes.Contains) ? ValidateCredentials(app.Platform, attributes, time) : null;
        bool? enabled = attributes.TryGetValue("Enabled", out var enabledText) ? ParseBoolean("Enabled", enabledText) : null;

        var now = time.UtcNow();
        if (credentials is not null)
        {
            ApplicationsEndpoints.ApplyCredentials(app, credentials, services.GetRequiredService<SecretBox>());
        }

        if (enabled is { } value)
        {
            ApplicationsEndpoints.SetEnabled(app, value, now);
        }

        await ApplicationsEndpoints.SaveChangesAsync(db, app, now, services.GetRequiredService<DeliverySignal>(), cancellationToken);
        return Result(context, null);
    }

    public static async Task<byte[]> ListAsync(SnsContext context, QueryParameters p, IServiceProvider services, CancellationToken cancellationToken)
    {
        var after = SnsActions.ReadNextToken(p);
        var db = services.GetRequiredService<PushGatewayDbContext>();
        var query = db.Applications.AsNoTracking().Where(a => a.ProjectId == context.ProjectId);
        if (after is { } last)
        {
            query = query.Where(a => a.Id > last);
        }

        var page = await query.OrderBy(a => a.Id).Take(SnsActions.PageSize + 1).ToListAsync(cancellationToken);
        var next = page.Count > SnsActions.PageSize ? Cursor.Encode(page[SnsActions.PageSize - 1].Id) : null;
        return Result(context, w =>
        {
            SnsXml.List(w, "PlatformApplications", page.Take(SnsActions.PageSize), (m, app) =>
            {
                SnsXml.Element(m, "PlatformApplicationArn", SnsArn.ForApplication(context, app));
                SnsXml.Map(m, "Attributes", Attributes(app));
            });
            SnsXml.ElementIf(w, "NextToken", next);
        });
    }

    public static async Task<byte[]> DeleteAsync(SnsContext context, QueryParameters p, IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<PushGatewayDbContext>();
        var arn = SnsArn.Parse(p.Required("PlatformApplicationArn"), "PlatformApplicationArn", context);
        var (platformName, name) = arn.AsApplication("PlatformApplicationArn");
        if (ToGatewayPlatform(platformName) is var (platform, environment)
            && await FindByNameAsync(db, context.ProjectId, platform, environment, name, tracked: false, cancellationToken) is { } app)
        {
            // Endpoints, their subscriptions and pending events go with it (foreign keys cascade), as in the REST API.
            await db.Applications.Where(a => a.Id == app.Id && a.ProjectId == context.ProjectId).ExecuteDeleteAsync(cancellationToken);
        }

        return Result(context, null);
    }

    /// <summary>The application an ARN names in the caller's project; NotFound "PlatformApplication does not exist" otherwise.</summary>
    public static async Task<Application> FindAsync(PushGatewayDbContext db, SnsContext context, string arnText, bool tracked, CancellationToken cancellationToken)
    {
        var arn = SnsArn.Parse(arnText, "PlatformApplicationArn", context);
        var (platformName, name) = arn.AsApplication("PlatformApplicationArn");
        var app = ToGatewayPlatform(platformName) is var (platform, environment)
            ? await FindByNameAsync(db, context.ProjectId, platform, environment, name, tracked, cancellationToken)
            : null;
        return app ?? throw SnsException.NotFound("PlatformApplication does not exist");
    }

    /// <summary>By id when the ARN carries one (applications whose name SNS would refuse), else the oldest of that name.</summary>
    private static Task<Application?> FindByNameAsync(
        PushGatewayDbContext db, Guid projectId, string platform, string? environment, string name, bool tracked, CancellationToken cancellationToken)
    {
        var query = (tracked ? db.Applications : db.Applications.AsNoTracking())
            .Where(a => a.ProjectId == projectId && a.Platform == platform && a.Environment == environment);
        query = Guid.TryParse(name, out var id) ? query.Where(a => a.Id == id) : query.Where(a => a.Name == name);
        return query.OrderBy(a => a.Id).FirstOrDefaultAsync(cancellationToken);
    }

    public static (string Platform, string? Environment)? ToGatewayPlatform(string snsPlatform) => snsPlatform switch
    {
        SnsArn.Apns => (Platforms.Apns, ApnsEnvironments.Production),
        SnsArn.ApnsSandbox => (Platforms.Apns, ApnsEnvironments.Sandbox),
        SnsArn.Gcm => (Platforms.Fcm, null),
        _ => null,
    };

    internal static bool ParseBoolean(string attribute, string value) =>
        bool.TryParse(value, out var parsed)
            ? parsed
            : throw SnsException.InvalidParameter("Attributes", $"Invalid value for attribute: {attribute}: must be \"true\" or \"false\"");

    private static IEnumerable<KeyValuePair<string, string>> Attributes(Application app)
    {
        var info = JsonNode.Parse(app.CredentialsInfo)!.AsObject();
        string? Info(string key) => info[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        yield return new("Enabled", app.Enabled ? "true" : "false");
        switch (app.CredentialsType)
        {
            case CredentialTypes.Token:
                yield return new("AuthenticationMethod", "Token");
                if (Info("teamId") is { } team)
                {
                    yield return new("ApplePlatformTeamID", team);
                }

                if (Info("bundleId") is { } bundle)
                {
                    yield return new("ApplePlatformBundleID", bundle);
                }

                break;
            case CredentialTypes.Certificate:
                yield return new("AuthenticationMethod", "Certificate");
                if (info["notAfter"] is JsonValue notAfter && notAfter.TryGetValue<DateTimeOffset>(out var expiry))
                {
                    yield return new("AppleCertificateExpiryDate", expiry.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
                }

                if (Info("bundleId") is { } certBundle)
                {
                    yield return new("ApplePlatformBundleID", certBundle);
                }

                break;
            case CredentialTypes.ServiceAccount:
                yield return new("AuthenticationMethod", "Token");
                break;
        }
    }

    private static void CheckName(string name)
    {
        if (name.Length == 0)
        {
            throw SnsException.InvalidParameter(name, "cannot be empty");
        }

        if (name.Length > 256)
        {
            throw SnsException.InvalidParameter(name, "must be at most 256 characters long");
        }

        if (!SnsArn.IsSnsName(name))
        {
            throw SnsException.InvalidParameter(name, "must contain only characters 'a'-'z', 'A'-'Z', '0'-'9', '_', '-', and '.'");
        }

        // The REST API's own rule for names (the registry's column) on top of SNS's.
        var v = new Validation();
        if (!v.Text("name", name, 200))
        {
            throw SnsException.InvalidParameter(name, "must be at most 200 characters long (PushGateway's limit for application names)");
        }
    }

    private static void CheckAttributeNames(IReadOnlyDictionary<string, string> attributes, bool allowEnabled)
    {
        foreach (var key in attributes.Keys)
        {
            if (UnsupportedAttributes.Contains(key))
            {
                throw SnsException.InvalidParameter("Attributes",
                    $"{key} is not supported by PushGateway: endpoint events are delivered to the application's webhook (REST API: PATCH /v1/applications/{{id}} with events), and delivery status is in the message receipts");
            }

            if (!CredentialAttributes.Contains(key) && !(allowEnabled && key == "Enabled"))
            {
                throw SnsException.InvalidParameter("Attributes", $"Invalid attribute name: {key}");
            }
        }
    }

    /// <summary>SNS's credential attributes as the REST API's credentials, validated by the same code.</summary>
    private static ValidatedCredentials ValidateCredentials(string platform, IReadOnlyDictionary<string, string> a, TimeProvider time)
    {
        var request = ToCredentialsRequest(platform, a);
        var v = new Validation();
        var validated = Credentials.Validate(platform, request, time, v);
        if (validated is null || !v.IsValid)
        {
            var detail = v.ToDetails().Errors.Select(e => $"{ToSnsAttribute(e.Key)}: {string.Join(" ", e.Value)}").FirstOrDefault();
            throw SnsException.InvalidParameter("Attributes", "Platform credentials are invalid" + (detail is null ? "" : $" ({detail})"));
        }

        return validated;
    }

    private static CredentialsRequest ToCredentialsRequest(string platform, IReadOnlyDictionary<string, string> a)
    {
        a.TryGetValue("PlatformCredential", out var credential);
        a.TryGetValue("PlatformPrincipal", out var principal);
        a.TryGetValue("ApplePlatformTeamID", out var teamId);
        a.TryGetValue("ApplePlatformBundleID", out var bundleId);
        if (principal is not null && credential is null)
        {
            throw SnsException.InvalidParameter("Attributes", "PlatformPrincipal attribute provided without PlatformCredential");
        }

        if (platform == Platforms.Fcm)
        {
            if (credential is null)
            {
                throw SnsException.InvalidParameter("Attributes", "PlatformCredential is required: the Firebase service-account JSON (FCM HTTP v1)");
            }

            return new CredentialsRequest(CredentialTypes.ServiceAccount, ServiceAccountJson: JsonSerializer.SerializeToElement(credential));
        }

        if (credential is null)
        {
            throw SnsException.InvalidParameter("Attributes",
                "PlatformCredential and PlatformPrincipal are required: the .p8 key and its key id (with ApplePlatformTeamID and ApplePlatformBundleID), or the private key and certificate in PEM");
        }

        if (principal is null)
        {
            throw SnsException.InvalidParameter("Attributes", "PlatformCredential attribute provided without PlatformPrincipal");
        }

        if (!principal.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            return new CredentialsRequest(CredentialTypes.Token, TeamId: teamId, KeyId: principal, PrivateKey: credential, BundleId: bundleId);
        }

        // SNS takes the certificate and its key as PEM; the registry stores and checks a PKCS#12.
        try
        {
            using var certificate = X509Certificate2.CreateFromPem(principal, credential);
            var pkcs12 = certificate.Export(X509ContentType.Pkcs12);
            return new CredentialsRequest(CredentialTypes.Certificate, Certificate: Convert.ToBase64String(pkcs12), BundleId: bundleId);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            throw SnsException.InvalidParameter("Attributes",
                "Platform credentials are invalid (PlatformPrincipal must be the PEM certificate and PlatformCredential its PEM private key)");
        }
    }

    private static string ToSnsAttribute(string field) => field switch
    {
        "credentials.teamId" => "ApplePlatformTeamID",
        "credentials.keyId" => "PlatformPrincipal",
        "credentials.bundleId" => "ApplePlatformBundleID",
        "credentials.privateKey" or "credentials.serviceAccountJson" => "PlatformCredential",
        "credentials.certificate" or "credentials.password" => "PlatformPrincipal",
        _ => field,
    };

    private static byte[] Result(SnsContext context, Action<System.Xml.XmlWriter>? result) => SnsXml.Success(context.Action, context.RequestId, result);
}
