namespace PushGateway.Delivery;

/// <summary>What a group of results changed, for logs and metrics once it is committed.</summary>
internal sealed class WriteSummary(List<DeliveryResult> written)
{
    public List<DeliveryResult> Written { get; } = written;
    public List<(Guid EndpointId, string Token, string Reason)> EndpointsDisabled { get; } = [];
    public List<(Guid EndpointId, string Token, string Reason)> EndpointsKept { get; } = [];
    public List<(Guid ApplicationId, string Reason)> ApplicationsDisabled { get; } = [];
    public List<Guid> GuardsTripped { get; } = [];
    public List<Guid> EndpointsRestored { get; } = [];
}
