using System.Text.RegularExpressions;
using PushGateway.Data;

namespace PushGateway.Sns;

/// <summary>
/// SNS ARNs: <c>arn:aws:sns:{region}:{account}:{resource}</c> where the resource is <c>app/{PLATFORM}/{name}</c>,
/// <c>endpoint/{PLATFORM}/{app}/{endpoint id}</c>, a topic name, or <c>{topic}:{endpoint id}</c> for a subscription.
/// The account is the caller's project (<see cref="SnsAccount"/>): an ARN of another account is refused before any
/// lookup, and every lookup is scoped to the caller's project anyway.
/// </summary>
internal sealed partial record SnsArn(string Region, string Account, string Resource, string? Qualifier)
{
    public const string Apns = "APNS";
    public const string ApnsSandbox = "APNS_SANDBOX";
    public const string Gcm = "GCM";

    [GeneratedRegex("\\A[A-Za-z0-9_.-]{1,256}\\z")]
    private static partial Regex SnsName();

    public static bool IsSnsName(string name) => SnsName().IsMatch(name);

    /// <summary>Parses and checks the account; <paramref name="parameter"/> names the parameter in errors.</summary>
    public static SnsArn Parse(string value, string parameter, SnsContext context)
    {
        var parts = value.Split(':');
        if (parts.Length < 6)
        {
            throw SnsException.InvalidParameter(parameter, $"An ARN must have at least 6 elements, not {parts.Length}");
        }

        if (parts[0] != "arn" || parts[2] != "sns" || parts[1].Length == 0)
        {
            throw SnsException.InvalidParameter(parameter, "Not an SNS ARN (arn:aws:sns:region:account:resource).");
        }

        if (parts.Length > 7)
        {
            throw SnsException.InvalidParameter(parameter, "Too many ':' separated elements.");
        }

        if (parts[4] != context.Account)
        {
            throw SnsException.AuthorizationError(
                $"User: arn:aws:iam::{context.Account}:user/{context.AccessKeyId} is not authorized to perform: SNS:{context.Action} on resource: {value}");
        }

        return new SnsArn(parts[3], parts[4], parts[5], parts.Length == 7 ? parts[6] : null);
    }

    public static string PlatformOf(Application app) =>
        app.Platform == Platforms.Fcm ? Gcm : app.Environment == ApnsEnvironments.Sandbox ? ApnsSandbox : Apns;

    /// <summary>The application's name when SNS would accept it as one, else its id (an ARN holds no spaces).</summary>
    public static string AppSegment(Application app) => IsSnsName(app.Name) ? app.Name : app.Id.ToString();

    public static string ForApplication(SnsContext context, Application app) =>
        $"arn:aws:sns:{context.Region}:{context.Account}:app/{PlatformOf(app)}/{AppSegment(app)}";

    public static string ForEndpoint(SnsContext context, Application app, Guid endpointId) =>
        $"arn:aws:sns:{context.Region}:{context.Account}:endpoint/{PlatformOf(app)}/{AppSegment(app)}/{endpointId}";

    public static string ForTopic(SnsContext context, string topic) => $"arn:aws:sns:{context.Region}:{context.Account}:{topic}";

    public static string ForSubscription(SnsContext context, string topic, Guid endpointId) => $"{ForTopic(context, topic)}:{endpointId}";

    /// <summary><c>app/{PLATFORM}/{name}</c> → platform and name (or application id).</summary>
    public (string Platform, string Name) AsApplication(string parameter)
    {
        var parts = Resource.Split('/');
        if (parts.Length != 3 || parts[0] != "app" || Qualifier is not null)
        {
            throw SnsException.InvalidParameter(parameter, parts.Length != 3
                ? "Wrong number of slashes in relative portion of the ARN."
                : "Not a platform application ARN (app/PLATFORM/name).");
        }

        return (parts[1], parts[2]);
    }

    /// <summary><c>endpoint/{PLATFORM}/{app}/{id}</c> → the endpoint id.</summary>
    public Guid AsEndpoint(string parameter)
    {
        var parts = Resource.Split('/');
        if (parts.Length != 4 || Qualifier is not null)
        {
            throw SnsException.InvalidParameter(parameter, "Wrong number of slashes in relative portion of the ARN.");
        }

        if (parts[0] != "endpoint" || !Guid.TryParse(parts[3], out var id))
        {
            throw SnsException.InvalidParameter(parameter, "Not a platform endpoint ARN (endpoint/PLATFORM/application/id).");
        }

        return id;
    }

    public bool IsEndpoint => Resource.StartsWith("endpoint/", StringComparison.Ordinal);

    public string AsTopic(string parameter)
    {
        if (Qualifier is not null || !Topics.TopicsEndpoints.IsValidName(Resource))
        {
            throw SnsException.InvalidParameter(parameter, "Not a topic ARN.");
        }

        return Resource;
    }

    public (string Topic, Guid EndpointId) AsSubscription(string parameter)
    {
        if (Qualifier is null || !Guid.TryParse(Qualifier, out var id) || !Topics.TopicsEndpoints.IsValidName(Resource))
        {
            throw SnsException.InvalidParameter(parameter, "Not a subscription ARN (topic ARN:subscription id).");
        }

        return (Resource, id);
    }
}
