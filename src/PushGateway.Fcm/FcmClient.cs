namespace PushGateway.Fcm;

/// <summary>FCM HTTP v1 client (placeholder until the client lands).</summary>
public sealed class FcmClient;
