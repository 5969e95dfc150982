using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace PushGateway.Hosting;

/// <summary>
/// A private PostgreSQL cluster started from the server binaries on this machine: local mode of the gateway and
/// the integration tests (when no Docker engine is around). PostgreSQL refuses to run as root, so when this
/// process is root the cluster is initialised and run as an unprivileged user (<c>postgres</c>, else <c>nobody</c>).
/// </summary>
internal sealed class LocalPostgres : IAsyncDisposable
{
    private const string Superuser = "postgres";
    private readonly string _binDirectory;
    private readonly string? _runAs;
    private readonly bool _stopOnDispose;

    /// <summary>The server options of the last start (port, listen address…), reused by <see cref="RestartAsync"/>.</summary>
    private string _serverOptions = "";

    private LocalPostgres(string binDirectory, string dataDirectory, string? runAs, int port, string password, bool stopOnDispose)
    {
        _binDirectory = binDirectory;
        DataDirectory = dataDirectory;
        _runAs = runAs;
        Port = port;
        Password = password;
        _stopOnDispose = stopOnDispose;
    }

    public string DataDirectory { get; }
    public int Port { get; }
    public string Password { get; }

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = Superuser,
        Password = Password,
        Database = database,
        // Loopback, never Kerberos: without this Npgsql probes GSS encryption and the runtime prints a
        // "Cannot load library libgssapi_krb5.so.2" line on machines without it.
        GssEncryptionMode = GssEncryptionMode.Disable,
    }.ConnectionString;

    /// <summary>Where the PostgreSQL server binaries are: PATH first, then the usual install folders.</summary>
    public static string? FindBinDirectory()
    {
        var candidates = new List<string>();
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            candidates.Add(dir);
        }

        foreach (var root in new[] { "/usr/lib/postgresql", "/usr/local/pgsql", "/opt/homebrew/opt", "/usr/pgsql" })
        {
            if (!Directory.Exists(root))
            {
                continue;
            }

            // Newest major version first (/usr/lib/postgresql/17/bin before 15/bin).
            foreach (var versionDir in Directory.GetDirectories(root).OrderByDescending(d => d, StringComparer.Ordinal))
            {
                candidates.Add(Path.Combine(versionDir, "bin"));
            }

            candidates.Add(Path.Combine(root, "bin"));
        }

        foreach (var dir in candidates)
        {
            var initdb = Path.Combine(dir, "initdb");
            var pgCtl = Path.Combine(dir, "pg_ctl");
            if (File.Exists(initdb) && File.Exists(pgCtl))
            {
                // Resolve symlinks (/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb) so that pg_ctl finds
                // the postgres binary next to it.
                var resolved = new FileInfo(pgCtl).ResolveLinkTarget(returnFinalTarget: true)?.FullName;
                return resolved is null ? dir : Path.GetDirectoryName(resolved)!;
            }
        }

        return null;
    }

    /// <summary>
    /// Starts (or reuses) the cluster under <paramref name="rootDirectory"/>: <c>pgdata/</c>, <c>postgres.log</c>,
    /// <c>postgres.port</c> and <c>postgres.password</c>. A cluster left running by an earlier process is reused.
    /// </summary>
    public static async Task<LocalPostgres> StartAsync(
        string rootDirectory,
        IReadOnlyDictionary<string, string>? settings,
        bool stopOnDispose,
        Action<string>? log,
        CancellationToken cancellationToken)
    {
        var bin = FindBinDirectory() ?? throw new LocalPostgresUnavailableException(
            "No PostgreSQL server binaries (initdb, pg_ctl) were found on PATH or in /usr/lib/postgresql/*/bin.");
        var runAs = Environment.IsPrivilegedProcess ? FindUnprivilegedUser() : null;

        Directory.CreateDirectory(rootDirectory);
        var dataDirectory = Path.Combine(rootDirectory, "pgdata");
        var passwordFile = Path.Combine(rootDirectory, "postgres.password");
        var portFile = Path.Combine(rootDirectory, "postgres.port");
        var logFile = Path.Combine(rootDirectory, "postgres.log");

        if (runAs is not null)
        {
            EnsureTraversable(rootDirectory);
        }

        if (!File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }

            var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(18)).ToLowerInvariant();
            await File.WriteAllTextAsync(passwordFile, password, cancellationToken);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            Directory.CreateDirectory(dataDirectory);

            // initdb reads the superuser password from a file it can open; give the unprivileged user a copy.
            var initPasswordFile = Path.Combine(dataDirectory + ".pwfile");
            await File.WriteAllTextAsync(initPasswordFile, password, cancellationToken);
            if (runAs is not null)
            {
                await ChownAsync(runAs, dataDirectory, cancellationToken);
                await ChownAsync(runAs, initPasswordFile, cancellationToken);
            }

            log?.Invoke($"Initialising a PostgreSQL cluster in {dataDirectory}");
            try
            {
                await RunAsync(bin, "initdb", runAs,
                    ["-D", dataDirectory, "-U", Superuser, "--auth=scram-sha-256", "--pwfile=" + initPasswordFile,
                     "-E", "UTF8", "--locale=C", "--no-instructions"],
                    cancellationToken);
            }
            finally
            {
                File.Delete(initPasswordFile);
            }
        }

        var passwordText = (await File.ReadAllTextAsync(passwordFile, cancellationToken)).Trim();
        var port = File.Exists(portFile) && int.TryParse(await File.ReadAllTextAsync(portFile, cancellationToken), out var p) ? p : 0;
        var instance = new LocalPostgres(bin, dataDirectory, runAs, port, passwordText, stopOnDispose);

        if (port != 0 && await instance.IsAcceptingConnectionsAsync(cancellationToken))
        {
            log?.Invoke($"Reusing the PostgreSQL server already running on 127.0.0.1:{port} ({dataDirectory})");
            return new LocalPostgres(bin, dataDirectory, runAs, port, passwordText, stopOnDispose: false);
        }

        if (port == 0 || !IsPortFree(port))
        {
            port = FreePort();
            await File.WriteAllTextAsync(portFile, port.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
            instance = new LocalPostgres(bin, dataDirectory, runAs, port, passwordText, stopOnDispose);
        }

        // A stale postmaster.pid from a killed server would stop pg_ctl; it removes stale ones itself when the
        // process is gone, so nothing to do here beyond starting.
        var options = new List<string>
        {
            "-p " + port,
            "-c listen_addresses=127.0.0.1",
            "-c unix_socket_directories=''",
            "-c max_connections=300",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            options.Add($"-c {key}={value}");
        }

        if (runAs is not null)
        {
            // The log file must be writable by the server's user.
            if (!File.Exists(logFile))
            {
                await File.WriteAllTextAsync(logFile, "", cancellationToken);
            }

            await ChownAsync(runAs, logFile, cancellationToken);
        }

        log?.Invoke($"Starting PostgreSQL on 127.0.0.1:{port} (data {dataDirectory}, log {logFile})");
        instance._serverOptions = string.Join(' ', options);
        instance._logFile = logFile;
        await RunAsync(bin, "pg_ctl", runAs,
            ["-D", dataDirectory, "-l", logFile, "-w", "-t", "120", "-o", instance._serverOptions, "start"],
            cancellationToken);
        return instance;
    }

    public async Task EnsureDatabaseAsync(string database, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", database);
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        NpgsqlConnection.ClearAllPools();
        await RunAsync(_binDirectory, "pg_ctl", _runAs, ["-D", DataDirectory, "-m", "fast", "-w", "stop"], cancellationToken);
    }

    /// <summary>Stops the server hard (as a crash would), for tests of recovery.</summary>
    public async Task KillAsync(CancellationToken cancellationToken) =>
        await RunAsync(_binDirectory, "pg_ctl", _runAs, ["-D", DataDirectory, "-m", "immediate", "-w", "stop"], cancellationToken);

    public async Task RestartAsync(CancellationToken cancellationToken) =>
        await RunAsync(_binDirectory, "pg_ctl", _runAs,
            ["-D", DataDirectory, "-l", _logFile ?? Path.Combine(DataDirectory, "restart.log"), "-w", "-t", "120", "-o", _serverOptions, "start"], cancellationToken);

    private string? _logFile;

    public async ValueTask DisposeAsync()
    {
        if (_stopOnDispose)
        {
            try
            {
                await StopAsync(CancellationToken.None);
            }
            catch (LocalPostgresUnavailableException)
            {
                // Already gone.
            }
        }
    }

    private async Task<bool> IsAcceptingConnectionsAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Timeout=3;Pooling=false");
            await connection.OpenAsync(cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or TimeoutException)
        {
            return false;
        }
    }

    private static string FindUnprivilegedUser()
    {
        var users = File.Exists("/etc/passwd")
            ? File.ReadAllLines("/etc/passwd").Select(l => l.Split(':')[0]).ToHashSet(StringComparer.Ordinal)
            : [];
        return users.Contains("postgres") ? "postgres" : "nobody";
    }

    /// <summary>The unprivileged user needs to walk down to the data folder.</summary>
    private static void EnsureTraversable(string directory)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(directory)); dir is not null; dir = dir.Parent)
        {
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(dir.FullName) & UnixFileMode.OtherExecute) == 0)
            {
                throw new LocalPostgresUnavailableException(
                    $"PostgreSQL must run as an unprivileged user, who cannot enter {dir.FullName}. " +
                    "Run from a folder that other users can traverse, or set ConnectionStrings__PushGateway.");
            }
        }
    }

    private static Task ChownAsync(string user, string path, CancellationToken cancellationToken) =>
        RunProcessAsync("chown", ["-R", user + ":", path], cancellationToken);

    private static Task RunAsync(string bin, string tool, string? runAs, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var executable = Path.Combine(bin, tool);
        if (runAs is null)
        {
            return RunProcessAsync(executable, arguments, cancellationToken);
        }

        // runuser (util-linux) switches user without a password when we are root; setpriv is the fallback.
        if (File.Exists("/usr/sbin/runuser") || File.Exists("/sbin/runuser"))
        {
            return RunProcessAsync("runuser", ["-u", runAs, "--", executable, .. arguments], cancellationToken);
        }

        return RunProcessAsync("setpriv", ["--reuid=" + runAs, "--regid=" + runAs, "--init-groups", executable, .. arguments], cancellationToken);
    }

    private static async Task RunProcessAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo) ?? throw new LocalPostgresUnavailableException($"Could not start {fileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new LocalPostgresUnavailableException(
                $"{Path.GetFileName(fileName)} {string.Join(' ', arguments.Take(3))}… exited with {process.ExitCode}: {(await stderr).Trim()} {(await stdout).Trim()}");
        }
    }

    private static bool IsPortFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

internal sealed class LocalPostgresUnavailableException(string message) : Exception(message);
