namespace PushGateway.Sns;

/// <summary>One verified SNS request: the caller's project and account, the region it signed for, the action.</summary>
internal sealed record SnsContext(Guid ProjectId, string AccessKeyId, string Region, string Action, string RequestId)
{
    public string Account { get; } = SnsAccount.For(ProjectId);
}
