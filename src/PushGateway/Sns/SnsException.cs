namespace PushGateway.Sns;

/// <summary>An SNS error as the AWS SDKs parse it: HTTP status, <c>Code</c> and <c>Message</c> of an <c>ErrorResponse</c>.</summary>
internal sealed class SnsException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;

    /// <summary>Sent as <c>Retry-After</c> (whole seconds) when set: throttling.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>5xx are the service's fault (<c>Receiver</c>), everything else the caller's (<c>Sender</c>).</summary>
    public string FaultType => Status >= 500 ? "Receiver" : "Sender";

    public static SnsException InvalidParameter(string message) => new(400, "InvalidParameter", message);

    /// <summary>"Invalid parameter: {name} Reason: {reason}", the shape SNS uses for most input errors.</summary>
    public static SnsException InvalidParameter(string name, string reason) => new(400, "InvalidParameter", $"Invalid parameter: {name} Reason: {reason}");

    /// <summary>The message real SNS gives for a missing required member (lowerCamel path).</summary>
    public static SnsException MissingMember(string path) =>
        new(400, "ValidationError", $"1 validation error detected: Value null at '{path}' failed to satisfy constraint: Member must not be null");

    public static SnsException NotFound(string message) => new(404, "NotFound", message);

    public static SnsException AuthorizationError(string message) => new(403, "AuthorizationError", message);

    /// <summary>The modeled throttling error (ThrottledException in the SDKs), which they retry with backoff.</summary>
    public static SnsException Throttled(int retryAfterSeconds) => new(429, "Throttled", "Rate exceeded") { RetryAfterSeconds = retryAfterSeconds };
}
