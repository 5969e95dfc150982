using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace PushGateway.Tests.Hosting;

/// <summary>
/// The container files as text: what the compose run of issue 15 found broken, checked without a Docker engine (this
/// machine has none). The build context keeps out what Git keeps out, at any depth; the compose files load in
/// Compose v1 and v2; the restore layer holds every project file the restore needs; nothing overrides HTTP_PORTS.
/// </summary>
public sealed partial class DeployFilesTests
{
    private static readonly string Root = FindRoot();

    private static readonly string[] ComposeFiles = ["docker-compose.yml", "docker-compose.production.yml"];

    [GeneratedRegex(@"^name\s*:", RegexOptions.Multiline)]
    private static partial Regex TopLevelName();

    [GeneratedRegex(@"^\s*(ASPNETCORE_URLS|URLS|Urls|ASPNETCORE_Urls)\s*[:=]", RegexOptions.Multiline)]
    private static partial Regex UrlsSetting();

    [GeneratedRegex(@"ConnectionStrings__\w+\s*[:=]\s*(.*)$", RegexOptions.Multiline)]
    private static partial Regex ConnectionString();

    [GeneratedRegex(@"^COPY\s+(.+?)\s+(\S+)\s*$")]
    private static partial Regex CopyLine();

    [GeneratedRegex(@"dotnet restore\s+(\S+\.csproj)")]
    private static partial Regex RestoreCommand();

    [Fact]
    public void DockerIgnore_KeepsOutEverythingGitIgnores_AtAnyDepth()
    {
        var ignored = Patterns(".dockerignore").Select(Normalize).ToHashSet(StringComparer.Ordinal);
        foreach (var pattern in Patterns(".gitignore"))
        {
            // Git matches a pattern without a slash inside at any depth; Docker matches every pattern from the
            // context root, so the same rule there is "**/pattern" (a leading "/" in Git anchors at the root).
            var inDocker = pattern.StartsWith('/') || pattern.TrimEnd('/').Contains('/') ? pattern.TrimStart('/') : "**/" + pattern;
            Assert.True(ignored.Contains(Normalize(inDocker)), $".gitignore has \"{pattern}\": .dockerignore needs \"{inDocker}\".");
        }

        // Local mode's folder under src/PushGateway/, the walkthrough's private key, and compose's variables.
        Assert.Contains("**/.pushgateway", ignored);
        Assert.Contains("**/simkey.json", ignored);
        Assert.Contains(".env", ignored);
        Assert.Contains(".git", ignored);
    }

    [Fact]
    public void ComposeFiles_HaveNoTopLevelName_AndTheProjectNameComesFromDotEnv()
    {
        foreach (var file in ComposeFiles)
        {
            Assert.False(TopLevelName().IsMatch(Read(file)), $"{file}: a top-level name: makes Compose v1 (1.29) refuse the file.");
        }

        Assert.Contains("COMPOSE_PROJECT_NAME=pushgateway", Read(".env").Split('\n').Select(l => l.Trim()));
    }

    [Fact]
    public void ComposeConnectionStrings_DisableGssEncryption_AndNothingSetsUrls()
    {
        foreach (var file in ComposeFiles)
        {
            var text = Read(file);
            var connectionStrings = ConnectionString().Matches(text).Select(m => m.Groups[1].Value).ToList();
            Assert.NotEmpty(connectionStrings);
            Assert.All(connectionStrings, c => Assert.Contains("GSS Encryption Mode=Disable", c, StringComparison.Ordinal));
            Assert.False(UrlsSetting().IsMatch(text), $"{file}: Urls overrides the images' ASPNETCORE_HTTP_PORTS with a warning.");
        }

        Assert.False(UrlsSetting().IsMatch(Read("Dockerfile").Replace("ENV ", "", StringComparison.Ordinal)), "Dockerfile sets Urls beside HTTP_PORTS.");
    }

    [Fact]
    public void Dockerfile_RestoresFromProjectFilesAlone_BeforeCopyingTheSources()
    {
        var lines = Read("Dockerfile").Split('\n').Select(l => l.Trim()).ToList();
        var copyAll = lines.FindIndex(l => l == "COPY . .");
        Assert.True(copyAll > 0, "Dockerfile has no COPY . . step.");
        var beforeSources = string.Join('\n', lines.Take(copyAll));
        var restored = RestoreCommand().Matches(beforeSources).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(restored);

        // Every file copied before the sources, as a repository path.
        var copied = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in lines.Take(copyAll))
        {
            if (CopyLine().Match(line) is { Success: true } copy && !line.Contains("--from", StringComparison.Ordinal))
            {
                var destination = copy.Groups[2].Value.TrimStart('.', '/');
                foreach (var source in copy.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    copied.Add(destination.Length == 0 || !destination.EndsWith('/') ? source : destination + Path.GetFileName(source));
                }
            }
        }

        Assert.Contains("Directory.Build.props", copied);
        Assert.Contains("Directory.Packages.props", copied);
        Assert.Contains("global.json", copied);

        // The restore needs each restored project and every project it references, transitively.
        var needed = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var project in restored)
        {
            AddWithReferences(project, needed);
        }

        foreach (var project in needed)
        {
            Assert.True(copied.Contains(project), $"Dockerfile: {project} is restored but not copied before COPY . .");
        }

        // What is published with --no-restore was restored.
        foreach (Match publish in Regex.Matches(string.Join('\n', lines.Skip(copyAll)), @"dotnet publish\s+(\S+\.csproj)"))
        {
            Assert.Contains(publish.Groups[1].Value, needed);
        }
    }

    private static void AddWithReferences(string project, ISet<string> projects)
    {
        if (!projects.Add(project))
        {
            return;
        }

        var directory = Path.GetDirectoryName(project)!;
        foreach (var reference in XDocument.Load(Path.Combine(Root, project)).Descendants("ProjectReference"))
        {
            var full = Path.GetFullPath(Path.Combine(Root, directory, reference.Attribute("Include")!.Value.Replace('\\', '/')));
            AddWithReferences(Path.GetRelativePath(Root, full).Replace('\\', '/'), projects);
        }
    }

    private static IEnumerable<string> Patterns(string file) =>
        Read(file).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'));

    /// <summary>Docker cleans a pattern (a trailing "/" means nothing to it).</summary>
    private static string Normalize(string pattern) => pattern.TrimEnd('/');

    private static string Read(string file) => File.ReadAllText(Path.Combine(Root, file));

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "PushGateway.sln")) && File.Exists(Path.Combine(directory.FullName, "Dockerfile")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (PushGateway.sln, Dockerfile) was not found above " + AppContext.BaseDirectory);
    }
}
