namespace PushGateway.Apns;

/// <summary>
/// Apple's payload size limits: 4096 bytes, 5120 for VoIP. A larger body gets 413 <c>PayloadTooLarge</c>.
/// <see href="https://developer.apple.com/documentation/usernotifications/generating-a-remote-notification"/>
/// </summary>
public static class ApnsPayloadLimits
{
    /// <summary>The limit of every push type but VoIP.</summary>
    public const int DefaultMaxBytes = 4096;

    /// <summary>The VoIP limit.</summary>
    public const int VoipMaxBytes = 5120;

    /// <summary>The largest UTF-8 payload APNs accepts for <paramref name="pushType"/>.</summary>
    public static int MaxBytes(ApnsPushType pushType) => pushType == ApnsPushType.Voip ? VoipMaxBytes : DefaultMaxBytes;
}

/// <summary>Thrown by <see cref="ApnsPayloadBuilder.Build"/> when the payload is over the limit of its push type.</summary>
public sealed class ApnsPayloadTooLargeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ApnsPayloadTooLargeException(int size, int maxBytes)
        : base($"The APNs payload is {size} bytes; the limit for this push type is {maxBytes}.")
    {
        Size = size;
        MaxBytes = maxBytes;
    }

    /// <summary>Creates the exception.</summary>
    public ApnsPayloadTooLargeException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public ApnsPayloadTooLargeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ApnsPayloadTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The payload size in bytes.</summary>
    public int Size { get; }

    /// <summary>The limit that was exceeded.</summary>
    public int MaxBytes { get; }
}
