using System.CommandLine;
using System.Text.Json.Nodes;

namespace PushGateway.Cli.Commands;

/// <summary><c>app …</c>: read the project's applications (creating one needs credentials: use the API).</summary>
internal static class ApplicationCommands
{
    public static Command App(CliHost host)
    {
        var list = new Command("list", "List the project's applications. Project key.");
        host.SetAction(list, async (run, ct) =>
        {
            var apps = await run.Client.GetAllPagesAsync("v1/applications", [], null, ct);
            run.Print(apps, a => ProjectCommands.Items(run.Out, a, "applications",
                ["ID", "NAME", "PLATFORM", "ENVIRONMENT", "ENABLED", "CREATED"],
                x => [Render.Text(x["id"]), Render.Text(x["name"]), Render.Text(x["platform"]), Render.Text(x["environment"]), Enabled(x), Render.Time(x["createdAt"])]));
            return ExitCodes.Success;
        });

        var id = CommandTree.IdArgument("application");
        var show = new Command("show", "Show an application: platform, credentials summary (never secrets), events, state. Project key.") { id };
        host.SetAction(show, async (run, ct) =>
        {
            var app = await run.Client.GetAsync($"v1/applications/{run.Get(id)}", ct);
            run.Print(app, a => Render.KeyValues(run.Out, Rows(a)));
            return ExitCodes.Success;
        });

        return new Command("app", "Applications (one app on one push platform): project key.") { list, show };
    }

    private static string Enabled(JsonNode app) =>
        Render.Text(app["disabledReason"]) is { } reason && Render.YesNo(app["enabled"]) == "no" ? $"no ({reason})" : Render.YesNo(app["enabled"]);

    private static IEnumerable<(string, string?)> Rows(JsonNode app)
    {
        yield return ("id", Render.Text(app["id"]));
        yield return ("name", Render.Text(app["name"]));
        yield return ("platform", Render.Text(app["platform"]));
        if (app["environment"] is not null)
        {
            yield return ("environment", Render.Text(app["environment"]));
        }

        yield return ("enabled", Render.YesNo(app["enabled"]));
        if (Render.Text(app["disabledReason"]) is { } reason)
        {
            yield return ("disabledReason", reason);
            yield return ("disabledAt", Render.Time(app["disabledAt"]));
        }

        // The API shows only the non-secret parts of credentials (type, teamId, keyId, bundleId, projectId, clientEmail, notAfter).
        if (app["credentials"] is JsonObject credentials)
        {
            foreach (var (name, value) in credentials)
            {
                yield return ("credentials." + name, name == "notAfter" ? Render.Time(value) : Render.Text(value));
            }
        }

        if (app["events"] is JsonObject events)
        {
            yield return ("events.url", Render.Text(events["url"]));
            yield return ("events.types", events["types"] is JsonArray types ? string.Join(", ", types.Select(Render.Text)) : null);
        }

        yield return ("createdAt", Render.Time(app["createdAt"]));
        yield return ("updatedAt", Render.Time(app["updatedAt"]));
    }
}
