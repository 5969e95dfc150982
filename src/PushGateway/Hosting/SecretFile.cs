using System.Text;

namespace PushGateway.Hosting;

/// <summary>
/// Local mode's key files. A secret file is created owner-only (0600) by the open call itself, so there is no moment
/// at which it exists with the umask's wider mode (writing first and chmod-ing after leaves such a window), and with
/// <see cref="FileMode.CreateNew"/>, so an existing file (or a planted symlink) is never overwritten.
/// </summary>
internal static class SecretFile
{
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static async Task WriteNewAsync(string path, string content, CancellationToken cancellationToken)
    {
        await using var stream = CreateNew(path);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(content), cancellationToken);
    }

    /// <summary>The empty file, already 0600 on Unix: the test checks the mode before a byte is written.</summary>
    internal static FileStream CreateNew(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        return new FileStream(path, options);
    }
}
