namespace PushGateway.Apns;

/// <summary>APNs HTTP/2 client (placeholder until the client lands).</summary>
public sealed class ApnsClient;
