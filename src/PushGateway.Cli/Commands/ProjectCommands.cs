using System.CommandLine;
using System.Text.Json.Nodes;

namespace PushGateway.Cli.Commands;

/// <summary><c>project …</c> and <c>apikey …</c>: the admin routes.</summary>
internal static class ProjectCommands
{
    public static Command Project(CliHost host)
    {
        var name = CommandTree.RequiredText("--name", "The project's name.", "name");
        var create = new Command("create", "Create a project (tenant). Admin key.") { name };
        host.SetAction(create, async (run, ct) =>
        {
            var project = await run.Client.PostAsync("v1/projects", new JsonObject { ["name"] = run.Get(name) }, ct);
            run.Print(project, p => ShowProject(run.Out, p));
            return ExitCodes.Success;
        });

        var id = CommandTree.IdArgument("project");
        var show = new Command("show", "Show a project. Admin key.") { id };
        host.SetAction(show, async (run, ct) =>
        {
            var project = await run.Client.GetAsync($"v1/projects/{run.Get(id)}", ct);
            run.Print(project, p => ShowProject(run.Out, p));
            return ExitCodes.Success;
        });

        var list = new Command("list", "List projects. Admin key.");
        host.SetAction(list, async (run, ct) =>
        {
            var projects = await run.Client.GetAllPagesAsync("v1/projects", [], null, ct);
            run.Print(projects, p => Items(run.Out, p, "projects",
                ["ID", "NAME", "CREATED"], x => [Render.Text(x["id"]), Render.Text(x["name"]), Render.Time(x["createdAt"])]));
            return ExitCodes.Success;
        });

        return new Command("project", "Projects (tenants): admin key.") { create, show, list };
    }

    public static Command ApiKey(CliHost host)
    {
        var project = CommandTree.RequiredId("--project", "The project's id.");
        var name = CommandTree.RequiredText("--name", "A name for the key (where it is used).", "name");
        var create = new Command("create", "Create a project API key; it is printed this once and never again. Admin key.") { project, name };
        host.SetAction(create, async (run, ct) =>
        {
            var key = await run.Client.PostAsync($"v1/projects/{run.Get(project)}/api-keys", new JsonObject { ["name"] = run.Get(name) }, ct);
            await run.Err.WriteLineAsync(
                "warning: this is the only time the key is shown; the gateway keeps only its hash. Store it now (a secret manager, " +
                $"{GlobalOptions.KeyVariable}); if it is lost, create a new key and revoke this one.");
            run.Print(key, k => Render.KeyValues(run.Out,
            [
                ("id", Render.Text(k["id"])),
                ("name", Render.Text(k["name"])),
                ("prefix", Render.Text(k["prefix"])),
                ("createdAt", Render.Time(k["createdAt"])),
                ("key", Render.Text(k["key"])),
            ]));
            return ExitCodes.Success;
        });

        var listProject = CommandTree.RequiredId("--project", "The project's id.");
        var list = new Command("list", "List a project's API keys (prefixes only, never the keys). Admin key.") { listProject };
        host.SetAction(list, async (run, ct) =>
        {
            var keys = await run.Client.GetAllPagesAsync($"v1/projects/{run.Get(listProject)}/api-keys", [], null, ct);
            run.Print(keys, k => Items(run.Out, k, "API keys",
                ["ID", "NAME", "PREFIX", "CREATED", "REVOKED"],
                x => [Render.Text(x["id"]), Render.Text(x["name"]), Render.Text(x["prefix"]), Render.Time(x["createdAt"]), Render.Time(x["revokedAt"])]));
            return ExitCodes.Success;
        });

        var revokeProject = CommandTree.RequiredId("--project", "The project's id.");
        var keyId = CommandTree.RequiredId("--key-id", "The key's id (from `apikey create` or `apikey list`), not the key itself.");
        var revoke = new Command("revoke", "Revoke a project API key; it stops working at once. Admin key.") { revokeProject, keyId };
        host.SetAction(revoke, async (run, ct) =>
        {
            await run.Client.DeleteAsync($"v1/projects/{run.Get(revokeProject)}/api-keys/{run.Get(keyId)}", ct);
            if (!run.Json)
            {
                await run.Out.WriteLineAsync($"Revoked API key {run.Get(keyId)} of project {run.Get(revokeProject)}; it no longer works.");
            }

            return ExitCodes.Success;
        });

        return new Command("apikey", "Project API keys: admin key.") { create, list, revoke };
    }

    private static void ShowProject(TextWriter output, JsonNode project) => Render.KeyValues(output,
    [
        ("id", Render.Text(project["id"])),
        ("name", Render.Text(project["name"])),
        ("createdAt", Render.Time(project["createdAt"])),
    ]);

    /// <summary>A <c>{items}</c> answer as a table, or a line saying there is nothing.</summary>
    public static void Items(TextWriter output, JsonNode response, string what, IReadOnlyList<string> headers, Func<JsonNode, IReadOnlyList<string?>> row)
    {
        var items = response["items"] as JsonArray ?? [];
        if (items.Count == 0)
        {
            output.WriteLine($"No {what}.");
            return;
        }

        Render.Table(output, headers, items.Select(i => row(i!)));
    }
}
