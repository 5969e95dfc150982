namespace PushGateway.Cli;

/// <summary>The process exit codes of <c>pushgateway</c>; scripts rely on them.</summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>The gateway refused the request with a 4xx problem (validation, not found, unauthorized, …).</summary>
    public const int RequestRejected = 1;

    /// <summary>The gateway could not be reached, timed out, answered 5xx or answered something that is not the API.</summary>
    public const int GatewayUnavailable = 2;

    /// <summary><c>send --wait</c> gave up before the message completed; the receipts so far are printed.</summary>
    public const int WaitTimedOut = 3;

    /// <summary>Bad usage: unknown command, missing or malformed option, no key (BSD sysexits EX_USAGE).</summary>
    public const int Usage = 64;

    /// <summary>Interrupted with Ctrl-C.</summary>
    public const int Interrupted = 130;
}
