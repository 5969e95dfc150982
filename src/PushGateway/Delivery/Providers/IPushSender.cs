namespace PushGateway.Delivery;

/// <summary>One application's provider connection.</summary>
internal interface IPushSender : IAsyncDisposable
{
    string Provider { get; }

    Task<DeliveryOutcome> SendAsync(MessageInfo message, string token, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>The state of an application as the workers see it.</summary>
internal sealed record ApplicationState(Guid Id, string Platform, bool Enabled, int CredentialsVersion, IPushSender Sender);
