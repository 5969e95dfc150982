namespace PushGateway.Sns;

/// <summary>The actions of the facade, by their Query protocol names.</summary>
internal static class SnsActions
{
    private delegate Task<byte[]> Handler(SnsContext context, QueryParameters parameters, IServiceProvider services, CancellationToken cancellationToken);

    private static readonly Dictionary<string, Handler> Handlers = new(StringComparer.Ordinal)
    {
        ["CreatePlatformApplication"] = PlatformApplicationActions.CreateAsync,
        ["GetPlatformApplicationAttributes"] = PlatformApplicationActions.GetAttributesAsync,
        ["SetPlatformApplicationAttributes"] = PlatformApplicationActions.SetAttributesAsync,
        ["ListPlatformApplications"] = PlatformApplicationActions.ListAsync,
        ["DeletePlatformApplication"] = PlatformApplicationActions.DeleteAsync,
        ["CreatePlatformEndpoint"] = EndpointActions.CreateAsync,
        ["GetEndpointAttributes"] = EndpointActions.GetAttributesAsync,
        ["SetEndpointAttributes"] = EndpointActions.SetAttributesAsync,
        ["DeleteEndpoint"] = EndpointActions.DeleteAsync,
        ["ListEndpointsByPlatformApplication"] = EndpointActions.ListAsync,
        ["Publish"] = PublishAction.PublishAsync,
        ["CreateTopic"] = TopicActions.CreateAsync,
        ["DeleteTopic"] = TopicActions.DeleteAsync,
        ["ListTopics"] = TopicActions.ListAsync,
        ["Subscribe"] = TopicActions.SubscribeAsync,
        ["Unsubscribe"] = TopicActions.UnsubscribeAsync,
        ["ListSubscriptionsByTopic"] = TopicActions.ListSubscriptionsAsync,
    };

    public static IEnumerable<string> Supported => Handlers.Keys;

    public static Task<byte[]> RunAsync(SnsContext context, QueryParameters parameters, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (!Handlers.TryGetValue(context.Action, out var handler))
        {
            throw new SnsException(400, "InvalidAction",
                $"Could not find operation {context.Action} for version 2010-03-31 (PushGateway's SNS facade supports {string.Join(", ", Handlers.Keys)}).");
        }

        return handler(context, parameters, services, cancellationToken);
    }

    /// <summary>Page tokens: the cursor of the last id, as the REST API's.</summary>
    public static Guid? ReadNextToken(QueryParameters parameters)
    {
        var token = parameters.Get("NextToken");
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        return Hosting.Cursor.TryDecode(token, out Guid? after) && after is not null
            ? after
            : throw SnsException.InvalidParameter("NextToken", "Token specified is invalid");
    }

    public const int PageSize = 100;
}
