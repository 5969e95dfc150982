using System.CommandLine;
using System.Text.Json.Nodes;

namespace PushGateway.Cli.Commands;

/// <summary><c>endpoint …</c>: show, list and register device endpoints (project key).</summary>
internal static class EndpointCommands
{
    public static Command Endpoint(CliHost host)
    {
        var id = CommandTree.IdArgument("endpoint");
        var show = new Command("show", "Show an endpoint (token shortened; --json shows it whole). Project key.") { id };
        host.SetAction(show, async (run, ct) =>
        {
            var endpoint = await run.Client.GetAsync($"v1/endpoints/{run.Get(id)}", ct);
            run.Print(endpoint, e => Render.KeyValues(run.Out, Rows(e)));
            return ExitCodes.Success;
        });

        var app = CommandTree.RequiredId("--app", "The application's id.");
        var user = new Option<string>("--user") { Description = "Only this user's endpoints.", HelpName = "userId" };
        var enabled = new Option<string>("--enabled") { Description = "Only enabled (true) or disabled (false) endpoints.", HelpName = "true|false" };
        enabled.AcceptOnlyFromAmong("true", "false");
        var limit = CommandTree.Limit("endpoints");
        var list = new Command("list", "List an application's endpoints, following pages. Project key.") { app, user, enabled, limit };
        host.SetAction(list, async (run, ct) =>
        {
            var page = await run.Client.GetAllPagesAsync($"v1/applications/{run.Get(app)}/endpoints",
            [
                ("userId", run.Parse.GetValue(user)),
                ("enabled", run.Parse.GetValue(enabled)),
            ], run.Parse.GetValue(limit), ct);
            run.Print(page, p =>
            {
                ProjectCommands.Items(run.Out, p, "endpoints",
                    ["ID", "USER", "ENABLED", "TOKEN", "TOKEN UPDATED"],
                    x => [Render.Text(x["id"]), Render.Text(x["userId"]), Enabled(x), Render.Token(x["token"]), Render.Time(x["tokenUpdatedAt"])]);
                MoreNote(run, p, "endpoints");
            });
            return ExitCodes.Success;
        });

        var registerApp = CommandTree.RequiredId("--app", "The application's id.");
        var token = CommandTree.RequiredText("--token", "The device token the app got from APNs or FCM.", "token");
        var registerUser = new Option<string>("--user") { Description = "Bind the endpoint to this user (taking it from any other).", HelpName = "userId" };
        var endpointId = CommandTree.OptionalId("--endpoint", "The endpoint id the app stored from its last registration, if any.");
        var register = new Command("register",
            "Register a device token the way an app does on launch: create, update, re-enable or reuse the endpoint. Project key.")
        {
            registerApp, token, registerUser, endpointId,
        };
        host.SetAction(register, async (run, ct) =>
        {
            var body = new JsonObject { ["token"] = run.Get(token) };
            if (run.Parse.GetValue(registerUser) is { } u)
            {
                body["userId"] = u;
            }

            if (run.Parse.GetValue(endpointId) is { } existing)
            {
                body["endpointId"] = existing;
            }

            var result = await run.Client.PostAsync($"v1/applications/{run.Get(registerApp)}/registrations", body, ct);
            run.Print(result, r => Render.KeyValues(run.Out, Rows(r["endpoint"]!).Prepend(("outcome", Render.Text(r["outcome"])))));
            return ExitCodes.Success;
        });

        var importApp = CommandTree.RequiredId("--app", "The application's id.");
        var file = new Argument<FileInfo>("file") { Description = "NDJSON, one endpoint a line: {token, customUserData?, enabled?, userId?, topics?}." };
        var events = new Option<string>("--events") { Description = "none (default) or created: an endpointCreated event for each endpoint created.", HelpName = "none|created" };
        events.AcceptOnlyFromAmong("none", "created");
        var import = new Command("import", "Import endpoints from an NDJSON file (SNS create semantics per line); progress on stderr. Project key.") { file, importApp, events };
        host.SetAction(import, async (run, ct) =>
        {
            var path = run.Get(file);
            await using var stream = path.OpenRead();
            var size = Math.Max(1, stream.Length);
            var query = run.Parse.GetValue(events) is { } e ? "?events=" + e : "";
            var progress = new Progress(run.Err);
            var summary = await run.Client.UploadNdjsonAsync($"v1/applications/{run.Get(importApp)}/endpoints/import{query}", stream,
                sent => progress.Report($"sent {sent / (1024 * 1024)} MiB of {size / (1024 * 1024)} MiB ({sent * 100 / size}%)"), ct);
            progress.Done();
            run.Print(summary, s => Render.KeyValues(run.Out,
            [
                ("lines", Render.Text(s["lines"])), ("created", Render.Text(s["created"])), ("existing", Render.Text(s["existing"])),
                ("conflicts", Render.Text(s["conflicts"])), ("invalid", Render.Text(s["invalid"])),
            ]));
            if (!run.Json && summary?["problems"] is JsonArray problems)
            {
                foreach (var problem in problems)
                {
                    run.Err.WriteLine($"line {Render.Text(problem!["line"])}: {Render.Text(problem["kind"])}: {Render.Text(problem["error"])}");
                }
            }

            return ExitCodes.Success;
        });

        var exportApp = CommandTree.RequiredId("--app", "The application's id.");
        var output = new Option<FileInfo>("--output") { Description = "Write to this file instead of stdout.", HelpName = "file" };
        var export = new Command("export", "Export an application's endpoints as NDJSON (stdout or --output); progress on stderr. Project key.") { exportApp, output };
        host.SetAction(export, async (run, ct) =>
        {
            var target = run.Parse.GetValue(output);
            await using var stream = target is null ? Console.OpenStandardOutput() : target.Create();
            var progress = new Progress(run.Err);
            var lines = await run.Client.DownloadNdjsonAsync($"v1/applications/{run.Get(exportApp)}/endpoints/export", stream,
                n => progress.Report($"{n} endpoints"), ct);
            progress.Done();
            run.Err.WriteLine($"exported {lines} endpoints");
            return ExitCodes.Success;
        });

        return new Command("endpoint", "Endpoints (one device token under one application): project key.") { show, list, register, import, export };
    }

    public static void MoreNote(Invocation run, JsonNode page, string what)
    {
        if (Render.Text(page["nextCursor"]) is not null)
        {
            run.Err.WriteLine($"note: more {what} exist; raise --limit to see them.");
        }
    }

    private static string Enabled(JsonNode endpoint) =>
        Render.YesNo(endpoint["enabled"]) == "no" && Render.Text(endpoint["disabledReason"]) is { } reason ? $"no ({reason})" : Render.YesNo(endpoint["enabled"]);

    private static IEnumerable<(string, string?)> Rows(JsonNode endpoint)
    {
        yield return ("id", Render.Text(endpoint["id"]));
        yield return ("applicationId", Render.Text(endpoint["applicationId"]));
        yield return ("token", Render.Token(endpoint["token"]));
        yield return ("enabled", Render.YesNo(endpoint["enabled"]));
        if (Render.Text(endpoint["disabledReason"]) is { } reason)
        {
            yield return ("disabledReason", reason);
            yield return ("disabledAt", Render.Time(endpoint["disabledAt"]));
        }

        yield return ("userId", Render.Text(endpoint["userId"]));
        yield return ("customUserData", Render.Text(endpoint["customUserData"]));
        yield return ("createdAt", Render.Time(endpoint["createdAt"]));
        yield return ("updatedAt", Render.Time(endpoint["updatedAt"]));
        yield return ("tokenUpdatedAt", Render.Time(endpoint["tokenUpdatedAt"]));
    }

    /// <summary>One progress line on stderr, rewritten in place at most every 200 ms.</summary>
    private sealed class Progress(TextWriter err)
    {
        private long _last = Environment.TickCount64 - 1000;
        private string? _text;

        public void Report(string text)
        {
            _text = text;
            if (Environment.TickCount64 - _last >= 200)
            {
                _last = Environment.TickCount64;
                err.Write("\r" + text);
            }
        }

        public void Done()
        {
            if (_text is not null)
            {
                err.WriteLine("\r" + _text);
            }
        }
    }
}
