using PushGateway.Hosting;

namespace PushGateway.Tests.Hosting;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SecretFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("secretfile-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void CreateNew_IsOwnerOnly_BeforeAnythingIsWritten()
    {
        var path = Path.Combine(_directory, "admin-key");
        using (SecretFile.CreateNew(path))
        {
            // The file exists and nothing has been written yet: the mode is already 0600 (a write-then-chmod would be
            // 0644 under the usual umask 022 at this point).
            Assert.Equal(SecretFile.OwnerOnly, File.GetUnixFileMode(path));
            Assert.Equal(0, new FileInfo(path).Length);
        }
    }

    [Fact]
    public async Task WriteNewAsync_WritesTheValue_OwnerOnly()
    {
        var path = Path.Combine(_directory, "encryption-key");
        await SecretFile.WriteNewAsync(path, "secret\n", TestContext.Current.CancellationToken);
        Assert.Equal("secret\n", await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public async Task WriteNewAsync_NeverOverwritesAnExistingFile()
    {
        var path = Path.Combine(_directory, "admin-key");
        await File.WriteAllTextAsync(path, "planted", TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<IOException>(() => SecretFile.WriteNewAsync(path, "secret", TestContext.Current.CancellationToken));
        Assert.Equal("planted", await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken));
    }
}
