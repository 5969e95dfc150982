using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;

namespace PushGateway.Cli.Commands;

/// <summary><c>send</c> (a test push, optionally waiting for its receipts) and <c>message …</c> (project key).</summary>
internal static class MessageCommands
{
    public const int DefaultWaitSeconds = 30;

    private static readonly string[] States = ["pending", "delivered", "failed", "expired", "skipped"];

    public static Command Send(CliHost host)
    {
        var endpoint = CommandTree.OptionalId("--endpoint", "Send to this endpoint.");
        var user = new Option<string>("--user") { Description = "Send to every endpoint of this user.", HelpName = "userId" };
        var topic = new Option<string>("--topic") { Description = "Send to every endpoint subscribed to this topic.", HelpName = "name" };
        var title = new Option<string>("--title") { Description = "Notification title.", HelpName = "text" };
        var body = new Option<string>("--body") { Description = "Notification body.", HelpName = "text" };
        var data = new Option<string[]>("--data")
        {
            Description = "Custom data as key=value; repeat the option or list several pairs.",
            HelpName = "key=value",
            AllowMultipleArgumentsPerToken = true,
        };
        data.Validators.Add(result =>
        {
            var keys = new HashSet<string>(StringComparer.Ordinal);
            foreach (var pair in result.GetValueOrDefault<string[]>() ?? [])
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    result.AddError($"--data '{pair}' is not key=value.");
                }
                else if (!keys.Add(pair[..equals]))
                {
                    result.AddError($"--data key '{pair[..equals]}' is given twice.");
                }
            }
        });
        var ttl = new Option<int?>("--ttl") { Description = "Time to live in seconds (0: deliver now or never).", HelpName = "seconds" };
        ttl.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 0)
            {
                result.AddError("--ttl must be 0 or more seconds.");
            }
        });
        var priority = new Option<string>("--priority") { Description = "Delivery priority.", HelpName = "high|normal" };
        priority.AcceptOnlyFromAmong("high", "normal");
        var idempotencyKey = new Option<string>("--idempotency-key")
        {
            Description = "Idempotency-Key header: the same key and body within 24 h sends nothing again.",
            HelpName = "key",
        };
        var wait = new Option<int?>("--wait")
        {
            Description = $"Wait until the message completes (at most this many seconds, default {DefaultWaitSeconds}) and print the receipts.",
            HelpName = "seconds",
            Arity = ArgumentArity.ZeroOrOne,
            CustomParser = result =>
            {
                if (result.Tokens.Count == 0)
                {
                    return DefaultWaitSeconds;
                }

                if (int.TryParse(result.Tokens[0].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
                {
                    return seconds;
                }

                result.AddError($"--wait takes a number of seconds above 0, not '{result.Tokens[0].Value}'.");
                return null;
            },
        };

        var send = new Command("send",
            "Send a test push to one endpoint, a user or a topic. Without --title, --body or --data a standard test alert is sent. Project key.")
        {
            endpoint, user, topic, title, body, data, ttl, priority, idempotencyKey, wait,
        };
        send.Validators.Add(result =>
        {
            var targets = new Option[] { endpoint, user, topic }.Count(o => result.IsGiven(o));
            if (targets != 1)
            {
                result.AddError("Give exactly one target: --endpoint ID, --user USER or --topic NAME.");
            }
        });

        host.SetAction(send, async (run, ct) =>
        {
            var target = new JsonObject();
            if (run.Parse.GetValue(endpoint) is { } endpointId)
            {
                target["endpointId"] = endpointId;
            }
            else if (run.Parse.GetValue(user) is { } userId)
            {
                target["userId"] = userId;
            }
            else
            {
                target["topic"] = run.Parse.GetValue(topic);
            }

            var message = new JsonObject { ["target"] = target };
            var pairs = run.Parse.GetValue(data) ?? [];
            var (titleText, bodyText) = (run.Parse.GetValue(title), run.Parse.GetValue(body));
            if (titleText is null && bodyText is null && pairs.Length == 0)
            {
                // Something visible on the device, so that an operator can see the test arrive.
                (titleText, bodyText) = ("PushGateway test", "Sent with the pushgateway command-line helper.");
            }

            if (titleText is not null || bodyText is not null)
            {
                var notification = new JsonObject();
                if (titleText is not null)
                {
                    notification["title"] = titleText;
                }

                if (bodyText is not null)
                {
                    notification["body"] = bodyText;
                }

                message["notification"] = notification;
            }

            if (pairs.Length > 0)
            {
                var map = new JsonObject();
                foreach (var pair in pairs)
                {
                    var equals = pair.IndexOf('=', StringComparison.Ordinal);
                    map[pair[..equals]] = pair[(equals + 1)..];
                }

                message["data"] = map;
            }

            if (run.Parse.GetValue(ttl) is { } seconds)
            {
                message["ttlSeconds"] = seconds;
            }

            if (run.Parse.GetValue(priority) is { } p)
            {
                message["priority"] = p;
            }

            var headers = run.Parse.GetValue(idempotencyKey) is { } key ? new Dictionary<string, string> { ["Idempotency-Key"] = key } : null;
            var accepted = await run.Client.PostAsync("v1/messages", message, ct, headers);
            if (run.Parse.GetValue(wait) is not { } waitSeconds)
            {
                run.Print(accepted, a => Render.KeyValues(run.Out,
                [
                    ("id", Render.Text(a["id"])),
                    ("status", Render.Text(a["status"])),
                    ("targetCount", Render.Text(a["targetCount"])),
                ]));
                return ExitCodes.Success;
            }

            var messageId = Render.Text(accepted?["id"]) ?? throw new UnexpectedResponseException("The send was accepted without a message id.");
            if (!run.Json)
            {
                // A fan-out's target count is known only once it is expanded (after the 202).
                var forWhom = accepted!["targetCount"] is { } count ? $"for {Render.Text(count)} endpoint(s)" : "(a fan-out, expanded into deliveries after acceptance)";
                await run.Err.WriteLineAsync(
                    $"Message {messageId} accepted {forWhom}; waiting up to {waitSeconds} s for it to complete...");
            }

            var (final, completed) = await WaitAsync(run, messageId, TimeSpan.FromSeconds(waitSeconds), ct);
            var receipts = await DeliveriesAsync(run, messageId, state: null, max: null, ct);
            if (!completed)
            {
                await run.Err.WriteLineAsync(
                    $"warning: message {messageId} has not completed after {waitSeconds} s (status {Render.Text(final["status"])}); the receipts so far follow.");
            }

            if (run.Json)
            {
                Render.Json(run.Out, new JsonObject { ["accepted"] = accepted, ["message"] = final, ["deliveries"] = receipts["items"]!.DeepClone() });
            }
            else
            {
                ShowMessage(run.Out, final);
                await run.Out.WriteLineAsync();
                ShowDeliveries(run, receipts);
            }

            return completed ? ExitCodes.Success : ExitCodes.WaitTimedOut;
        });

        return send;
    }

    public static Command Message(CliHost host)
    {
        var id = CommandTree.IdArgument("message");
        var show = new Command("show", "Show a message's status and counts. Project key.") { id };
        host.SetAction(show, async (run, ct) =>
        {
            var message = await run.Client.GetAsync($"v1/messages/{run.Get(id)}", ct);
            run.Print(message, m => ShowMessage(run.Out, m));
            return ExitCodes.Success;
        });

        var deliveriesId = CommandTree.IdArgument("message");
        var state = new Option<string>("--state") { Description = "Only deliveries in this state.", HelpName = string.Join('|', States) };
        state.AcceptOnlyFromAmong(States);
        var limit = CommandTree.Limit("deliveries");
        var deliveries = new Command("deliveries", "Show a message's receipts: per endpoint state, attempts and the provider's answer. Project key.")
        {
            deliveriesId, state, limit,
        };
        host.SetAction(deliveries, async (run, ct) =>
        {
            var page = await DeliveriesAsync(run, run.Get(deliveriesId).ToString(), run.Parse.GetValue(state), run.Parse.GetValue(limit), ct);
            run.Print(page, p => ShowDeliveries(run, p));
            return ExitCodes.Success;
        });

        return new Command("message", "Messages and their delivery receipts: project key.") { show, deliveries };
    }

    private static async Task<(JsonNode Message, bool Completed)> WaitAsync(Invocation run, string messageId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var time = run.Environment.Time;
        var deadline = time.GetUtcNow() + timeout;
        while (true)
        {
            var message = await run.Client.GetAsync($"v1/messages/{messageId}", cancellationToken)
                ?? throw new UnexpectedResponseException($"GET v1/messages/{messageId} answered an empty body.");
            if (Render.Text(message["status"]) == "completed")
            {
                return (message, true);
            }

            if (time.GetUtcNow() >= deadline)
            {
                return (message, false);
            }

            await Task.Delay(run.Environment.PollInterval, time, cancellationToken);
        }
    }

    private static Task<JsonObject> DeliveriesAsync(Invocation run, string messageId, string? state, int? max, CancellationToken cancellationToken) =>
        run.Client.GetAllPagesAsync($"v1/messages/{messageId}/deliveries", [("state", state)], max, cancellationToken);

    private static void ShowMessage(TextWriter output, JsonNode message)
    {
        var counts = message["counts"];
        string Count(string name) => $"{name} {Render.Text(counts?[name]) ?? "0"}";
        Render.KeyValues(output,
        [
            ("id", Render.Text(message["id"])),
            ("status", Render.Text(message["status"])),
            ("createdAt", Render.Time(message["createdAt"])),
            ("completedAt", Render.Time(message["completedAt"])),
            ("expiresAt", Render.Time(message["expiresAt"])),
            ("counts", string.Join(", ", new[] { "total", "pending", "delivered", "failed", "expired", "skipped" }.Select(Count))),
        ]);
    }

    private static void ShowDeliveries(Invocation run, JsonNode page)
    {
        ProjectCommands.Items(run.Out, page, "deliveries",
            ["ENDPOINT", "STATE", "ATTEMPTS", "LAST ATTEMPT", "PROVIDER STATUS", "REASON", "PROVIDER ID"],
            d => [
                Render.Text(d["endpointId"]), Render.Text(d["state"]), Render.Text(d["attempts"]), Render.Time(d["lastAttemptAt"]),
                Render.Text(d["provider"]?["status"]), Render.Text(d["provider"]?["reason"]), Render.Text(d["provider"]?["id"]),
            ]);
        EndpointCommands.MoreNote(run, page, "deliveries");
    }
}
