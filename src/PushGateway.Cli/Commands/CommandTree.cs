using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;

namespace PushGateway.Cli.Commands;

/// <summary>The whole command tree; each area adds its commands.</summary>
internal static class CommandTree
{
    public static Command Build(CliHost host)
    {
        // A plain Command rather than RootCommand: RootCommand names itself after the executable (PushGateway.Cli).
        var root = new Command(PushGatewayCli.CommandName,
            "Operate a PushGateway over its REST API: projects and API keys (admin key), applications, endpoints, " +
            "test sends and delivery receipts (project key).")
        {
            new HelpOption { Recursive = true },
            new VersionOption(),
            host.Globals.Url,
            host.Globals.Key,
            host.Globals.Json,
        };

        root.Subcommands.Add(ProjectCommands.Project(host));
        root.Subcommands.Add(ProjectCommands.ApiKey(host));
        root.Subcommands.Add(ApplicationCommands.App(host));
        root.Subcommands.Add(EndpointCommands.Endpoint(host));
        root.Subcommands.Add(MessageCommands.Send(host));
        root.Subcommands.Add(MessageCommands.Message(host));
        return root;
    }

    public static Argument<Guid> IdArgument(string what) => new("id")
    {
        Description = $"The {what}'s id.",
        CustomParser = result => ParseId(result, result.Tokens[0].Value, $"{what} id"),
    };

    public static Option<Guid> RequiredId(string name, string description) => new(name)
    {
        Description = description,
        Required = true,
        HelpName = "id",
        CustomParser = result => ParseId(result, result.Tokens[0].Value, name),
    };

    public static Option<Guid?> OptionalId(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "id",
        CustomParser = result => ParseId(result, result.Tokens[0].Value, name),
    };

    /// <summary>Ids are UUIDs; saying so beats the parser's "expected type System.Nullable`1[System.Guid]".</summary>
    private static Guid ParseId(ArgumentResult result, string text, string what)
    {
        if (Guid.TryParse(text, out var id))
        {
            return id;
        }

        result.AddError($"{what}: '{text}' is not an id; ids are UUIDs such as 0199a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d.");
        return Guid.Empty;
    }

    public static Option<string> RequiredText(string name, string description, string helpName) =>
        new(name) { Description = description, Required = true, HelpName = helpName };

    /// <summary>An optional page-following cap: 1 or more.</summary>
    public static Option<int?> Limit(string what)
    {
        var option = new Option<int?>("--limit") { Description = $"Show at most this many {what} (default: all; pages are followed).", HelpName = "n" };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1)
            {
                result.AddError("--limit must be 1 or more.");
            }
        });
        return option;
    }

    public static bool IsGiven(this CommandResult command, Option option) => command.GetResult(option) is not null;
}
