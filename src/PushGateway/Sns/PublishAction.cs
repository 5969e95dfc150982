using System.Text;
using Microsoft.EntityFrameworkCore;
using PushGateway.Data;
using PushGateway.Hosting;
using PushGateway.Messages;

namespace PushGateway.Sns;

/// <summary>
/// Publish to an endpoint (<c>TargetArn</c>) or a topic (<c>TopicArn</c>, or a topic ARN as <c>TargetArn</c>): mapped
/// to a message request (<see cref="SnsMessageMapper"/>), validated and queued by the REST API's code
/// (<see cref="PreparedMessage"/>, <see cref="MessageAcceptor"/>). The MessageId is the gateway's message id, so
/// <c>GET /v1/messages/{id}</c> shows its receipts.
/// </summary>
internal static class PublishAction
{
    private const int MaxMessageBytes = 262_144;

    public static async Task<byte[]> PublishAsync(SnsContext context, QueryParameters p, IServiceProvider services, CancellationToken cancellationToken)
    {
        var message = p.Required("Message");
        if (p.Get("Subject") is "")
        {
            throw SnsException.InvalidParameter("Invalid parameter: Subject");
        }

        if (message.Length == 0)
        {
            throw SnsException.InvalidParameter("Invalid parameter: Empty message");
        }

        if (p.Get("PhoneNumber") is not null)
        {
            throw SnsException.InvalidParameter("PhoneNumber", "SMS is not supported by PushGateway");
        }

        var structure = p.Get("MessageStructure");
        if (structure is not (null or "json"))
        {
            throw SnsException.InvalidParameter("MessageStructure", "must be json when given");
        }

        var attributes = p.MessageAttributes("MessageAttributes");
        var size = Encoding.UTF8.GetByteCount(message)
            + attributes.Sum(a => Encoding.UTF8.GetByteCount(a.Name) + Encoding.UTF8.GetByteCount(a.DataType ?? "")
                + Encoding.UTF8.GetByteCount(a.StringValue ?? a.BinaryValue ?? ""));
        if (size > MaxMessageBytes)
        {
            throw SnsException.InvalidParameter("Invalid parameter: Message too long");
        }

        var (targetArn, topicArn) = (p.Get("TargetArn"), p.Get("TopicArn"));
        if ((targetArn is null) == (topicArn is null))
        {
            throw SnsException.InvalidParameter("TopicArn or TargetArn", targetArn is null ? "No value for either parameter" : "Only one of them may be given");
        }

        var parameter = targetArn is null ? "TopicArn" : "TargetArn";
        var arn = SnsArn.Parse(targetArn ?? topicArn!, parameter, context);
        var db = services.GetRequiredService<PushGatewayDbContext>();
        MessageTarget target;
        string? platformKey = null;
        if (arn.IsEndpoint && targetArn is not null)
        {
            var id = arn.AsEndpoint(parameter);
            var endpoint = await db.Endpoints.AsNoTracking()
                .Where(e => e.Id == id && e.ProjectId == context.ProjectId)
                .Join(db.Applications, e => e.ApplicationId, a => a.Id, (e, a) => new { e.Enabled, App = a })
                .FirstOrDefaultAsync(cancellationToken)
                ?? throw SnsException.InvalidParameter("TargetArn", "No endpoint found for the target arn specified");
            // Before the message is looked at, as on SNS.
            if (!endpoint.Enabled)
            {
                throw new SnsException(400, "EndpointDisabled", "Endpoint is disabled");
            }

            target = new MessageTarget { EndpointId = id };
            platformKey = SnsArn.PlatformOf(endpoint.App);
        }
        else
        {
            target = new MessageTarget { Topic = arn.AsTopic(parameter) };
        }

        var request = SnsMessageMapper.Build(target, platformKey, message, structure == "json", attributes);
        var v = new Validation();
        var prepared = PreparedMessage.Prepare(request, v);
        if (prepared is null)
        {
            var (field, errors) = v.ToDetails().Errors.First();
            throw SnsException.InvalidParameter(field.StartsWith("target", StringComparison.Ordinal) ? parameter : "MessageAttributes",
                $"{SnsMessageMapper.ToSnsName(field)}: {string.Join(" ", errors)}");
        }

        if (services.GetRequiredService<Quota.SendQuota>().TryAcquire(context.ProjectId, 1) is { } refusal)
        {
            throw SnsException.Throttled(refusal.RetryAfterSeconds);
        }

        var acceptor = services.GetRequiredService<MessageAcceptor>();
        var outcome = await acceptor.AcceptAsync(context.ProjectId, [prepared], [null], null,
            items => (202, MessageAcceptor.Serialize(items[0].Accepted)), cancellationToken);
        var item = outcome is AcceptOutcome.Done { Items: [var only] } ? only : throw new InvalidOperationException("Unexpected accept outcome.");
        if (item.Problem is { } problem)
        {
            throw problem.Type switch
            {
                ProblemTypes.EndpointDisabled => new SnsException(400, "EndpointDisabled", "Endpoint is disabled"),
                ProblemTypes.NotFound when platformKey is not null => SnsException.InvalidParameter("TargetArn", "No endpoint found for the target arn specified"),
                ProblemTypes.NotFound => SnsException.NotFound("Topic does not exist"),
                ProblemTypes.PayloadTooLarge => SnsException.InvalidParameter($"Invalid parameter: Message too long ({problem.Detail})"),
                _ => SnsException.InvalidParameter("Message", problem.Detail ?? problem.Title ?? "refused"),
            };
        }

        return SnsXml.Success(context.Action, context.RequestId, w => SnsXml.Element(w, "MessageId", item.Accepted!.Id.ToString()));
    }
}
