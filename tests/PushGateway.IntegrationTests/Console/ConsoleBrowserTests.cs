using System.Net;
using System.Text.RegularExpressions;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using PushGateway.Data;
using PushGateway.IntegrationTests.Events;
using PushGateway.IntegrationTests.Infrastructure;
using PushGateway.Simulator;
using PushGateway.WebConsole;

namespace PushGateway.IntegrationTests.WebConsole;

/// <summary>
/// The console in a real browser against the real gateway and simulator: what an operator does, page by page, with
/// axe-core on every page, the security headers, and no secret ever in a page.
/// </summary>
public sealed class ConsoleBrowserTests(ConsoleGateway gateway, Browser browser) : IClassFixture<ConsoleGateway>, IClassFixture<Browser>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly List<string> _pages = [];

    private string Url(string path) => new Uri(gateway.BaseAddress, path.TrimStart('/')).ToString();

    [Fact]
    public async Task Operator_SignsIn_FindsTheEndpoint_SendsATestPush_SeesItDelivered_AndSignsOut()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct);
        var token = TestCredentials.ApnsTokenHex();
        var endpoint = (await project.Client.CreateEndpointAsync(appId, token, Ct, userId: "alice")).Id();
        await using var context = await browser.Chromium.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();

        // Not signed in: the console sends us to sign in. The headers are on every console response.
        var first = await page.GotoAsync(Url("/console/endpoints"));
        Assert.Matches("/console/signin", page.Url);
        var csp = await first!.HeaderValueAsync("content-security-policy");
        Assert.Equal(ConsoleSetup.ContentSecurityPolicy, csp);
        Assert.Contains("script-src 'self'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
        await CheckPageAsync(page);

        // A wrong key is refused.
        await page.GetByLabel("API key or admin key").FillAsync("pgk_not-a-key");
        var refused = await page.RunAndWaitForResponseAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync(),
            r => r.Url.Contains("/console/signin", StringComparison.Ordinal) && r.Request.Method == "POST");
        Assert.Equal(401, refused.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("unknown or revoked");

        await SignInAsync(page, project.Key);
        Assert.EndsWith("/console/endpoints", page.Url, StringComparison.Ordinal);
        var cookie = Assert.Single(await context.CookiesAsync(), c => c.Name == "pushgateway_console");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.Equal("/console", cookie.Path);
        await CheckPageAsync(page);

        await page.GotoAsync(Url("/console"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview", Level = 1 })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Rowheader, new() { Name = "ios", Exact = true })).ToBeVisibleAsync();
        await CheckPageAsync(page);

        // Search by the token's beginning, open the endpoint.
        await page.GotoAsync(Url("/console/endpoints"));
        await page.GetByLabel("Search endpoints").FillAsync(token[..10]);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await CheckPageAsync(page);
        await page.GetByRole(AriaRole.Link, new() { Name = endpoint.ToString() }).ClickAsync();
        await Assertions.Expect(page.Locator("#endpoint-state")).ToHaveTextAsync("enabled");
        await Assertions.Expect(page.Locator(".facts")).ToContainTextAsync("alice");
        await CheckPageAsync(page);

        // Send a test push from the endpoint page and watch it become delivered: the first attempt gets a 503 with
        // Retry-After, so the page is rendered while the delivery is pending and must update itself.
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Preset = TokenPresets.ServiceUnavailable, RetryAfter = 2, Times = 1 });
        await page.GetByRole(AriaRole.Link, new() { Name = "Send test push" }).Last.ClickAsync();
        await Assertions.Expect(page.GetByLabel("Endpoint id, user id or topic name")).ToHaveValueAsync(endpoint.ToString());
        await CheckPageAsync(page);
        await page.GetByLabel("Title").FillAsync("Hello from the console");
        await page.Locator("form.stacked").GetByRole(AriaRole.Button, new() { Name = "Send test push" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/console/messages/[0-9a-f-]{36}$"));
        await Assertions.Expect(page.Locator("#message-live.live")).ToHaveCountAsync(1);
        Assert.NotEqual("completed", await page.Locator("#message-status").TextContentAsync());
        await Assertions.Expect(page.Locator("#message-status")).ToHaveTextAsync("completed", new() { Timeout = 20_000 });
        await Assertions.Expect(page.Locator(".delivery-state").First).ToHaveTextAsync("delivered");
        await CheckPageAsync(page);
        await Assertions.Expect(page.Locator("#message-live.live")).ToHaveCountAsync(0);
        var received = gateway.Simulator.State.GetReceived("apns", token).Items;
        Assert.Contains("Hello from the console", received[^1].Body!.Value.GetRawText(), StringComparison.Ordinal);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(AppContext.BaseDirectory, "console-message.png"), FullPage = true });

        // The messages lookup finds it again.
        var messageUrl = page.Url;
        await page.GotoAsync(Url("/console/messages"));
        await CheckPageAsync(page);
        await page.GetByLabel("Message id").FillAsync(messageUrl[(messageUrl.LastIndexOf('/') + 1)..]);
        await page.GetByRole(AriaRole.Button, new() { Name = "Look up" }).ClickAsync();
        Assert.Equal(messageUrl, page.Url);

        // A test push to a user reaches the user's endpoint.
        await page.GotoAsync(Url("/console/send"));
        await page.GetByLabel("User", new() { Exact = true }).CheckAsync();
        await page.GetByLabel("Endpoint id, user id or topic name").FillAsync("alice");
        await page.GetByLabel("Title").FillAsync("Hello alice");
        await page.Locator("form.stacked").GetByRole(AriaRole.Button, new() { Name = "Send test push" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/console/messages/[0-9a-f-]{36}$"));
        await Assertions.Expect(page.Locator("#message-status")).ToHaveTextAsync("completed", new() { Timeout = 20_000 });
        await Assertions.Expect(page.Locator(".delivery-state")).ToHaveTextAsync(["delivered"]);
        await Assertions.Expect(page.Locator("#message-live")).ToContainTextAsync(endpoint.ToString());
        Assert.Contains("Hello alice", gateway.Simulator.State.GetReceived("apns", token).Items[^1].Body!.Value.GetRawText(), StringComparison.Ordinal);

        // Disable and enable by hand.
        await page.GotoAsync(Url($"/console/endpoints/{endpoint}"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Disable" }).ClickAsync();
        await Assertions.Expect(page.Locator("#endpoint-state")).ToHaveTextAsync("disabled");
        await page.GetByRole(AriaRole.Button, new() { Name = "Enable" }).ClickAsync();
        await Assertions.Expect(page.Locator("#endpoint-state")).ToHaveTextAsync("enabled");

        await AssertNoSecretAsync(project.Key, TestGateway.AdminKey);

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/console/signin"));
        await page.GotoAsync(Url("/console"));
        Assert.Contains("/console/signin", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisabledEndpoint_ShowsTheProvidersReason_AFailedWebhookIsRetried_AndDeleteAsksFirst()
    {
        var project = await gateway.NewProjectAsync(Ct);
        var appId = await gateway.CreateApnsAppAsync(project.Client, Ct);
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, _) => new WebhookAnswer.Status(500);
        await project.Client.UseReceiverAsync(appId, receiver, Ct, EventTypes.EndpointCreated);
        var token = TestCredentials.ApnsTokenHex();
        gateway.Simulator.State.SetTokenBehavior(token, new TokenBehavior { Preset = TokenPresets.Unregistered, Timestamp = DateTimeOffset.UtcNow.AddSeconds(5).ToUnixTimeMilliseconds() });
        var endpoint = (await project.Client.CreateEndpointAsync(appId, token, Ct)).Id();
        var messageId = await DeliveryGateway.SendAsync(project.Client, new { target = new { endpointId = endpoint }, notification = new { title = "gone" } }, Ct);
        await DeliveryGateway.WaitForMessageAsync(project.Client, messageId, Ct);
        await project.Client.WaitForEventsAsync(appId, e => e.Any(x => x["state"].Str() == "failed"), Ct, what: "the webhook to fail for good");

        await using var context = await browser.Chromium.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(Url("/console/signin"));
        await SignInAsync(page, project.Key);

        await page.GotoAsync(Url($"/console/endpoints/{endpoint}"));
        await Assertions.Expect(page.Locator("#endpoint-state")).ToHaveTextAsync("disabled");
        await Assertions.Expect(page.Locator("#disabled-reason")).ToContainTextAsync("410");
        await Assertions.Expect(page.Locator("table")).ToContainTextAsync("Unregistered");
        await CheckPageAsync(page);

        receiver.Respond = (_, _) => WebhookAnswer.Ok;
        await page.GotoAsync(Url($"/console/events?app={appId}&state=failed"));
        await CheckPageAsync(page);
        await page.GetByRole(AriaRole.Button, new() { Name = "Retry" }).First.ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("goes out again");
        await receiver.WaitForAsync(r => r.Any(x => x.Accepted), Ct, what: "the retried event");
        await project.Client.WaitForEventsAsync(appId, e => e.Any(x => x["state"].Str() == "delivered"), Ct, what: "the retried event to be delivered");

        await page.GotoAsync(Url($"/console/endpoints/{endpoint}"));
        await page.GetByRole(AriaRole.Link, new() { Name = "Delete…" }).ClickAsync();
        await CheckPageAsync(page);
        Assert.Equal(HttpStatusCode.OK, (await project.Client.GetAsync($"v1/endpoints/{endpoint}", Ct)).StatusCode);
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete endpoint" }).ClickAsync();
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("was deleted");
        Assert.Equal(HttpStatusCode.NotFound, (await project.Client.GetAsync($"v1/endpoints/{endpoint}", Ct)).StatusCode);

        await AssertNoSecretAsync(project.Key, TestGateway.AdminKey, receiver.Secret);
    }

    [Fact]
    public async Task Admin_CreatesAKeyShownOnce_RevokingAKeyEndsItsSession_AndFormsNeedTheAntiforgeryToken()
    {
        var project = await gateway.NewProjectAsync(Ct);
        await using var projectContext = await browser.Chromium.NewContextAsync();
        var projectPage = await projectContext.NewPageAsync();
        await projectPage.GotoAsync(Url("/console/signin"));
        await SignInAsync(projectPage, project.Key);

        // A form posted without its antiforgery token is refused, even with a valid session.
        var forged = await projectPage.APIRequest.PostAsync(Url("/console/send"), new APIRequestContextOptions
        {
            Form = projectPage.APIRequest.CreateFormData().Set("kind", "user").Set("target", "alice").Set("title", "forged"),
        });
        Assert.Equal(400, forged.Status);

        await using var adminContext = await browser.Chromium.NewContextAsync();
        var admin = await adminContext.NewPageAsync();
        await admin.GotoAsync(Url("/console/signin"));
        await SignInAsync(admin, TestGateway.AdminKey);
        Assert.EndsWith("/console/admin", admin.Url, StringComparison.Ordinal);
        await CheckPageAsync(admin);

        await admin.GetByLabel("Project name").FillAsync("console-made");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Create project" }).ClickAsync();
        await Assertions.Expect(admin.GetByRole(AriaRole.Heading, new() { Name = "Project console-made" })).ToBeVisibleAsync();
        await admin.GetByLabel("Key name").FillAsync("backend");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Create API key" }).ClickAsync();
        var created = await admin.GetByLabel("API key", new() { Exact = true }).InputValueAsync();
        Assert.StartsWith("pgk_", created, StringComparison.Ordinal);
        await CheckPageAsync(admin, allowed: created);
        await admin.ReloadAsync();
        Assert.DoesNotContain(created, await admin.ContentAsync(), StringComparison.Ordinal);
        await CheckPageAsync(admin);

        // The new key signs in to its project.
        await using var newContext = await browser.Chromium.NewContextAsync();
        var newPage = await newContext.NewPageAsync();
        await newPage.GotoAsync(Url("/console/signin"));
        await SignInAsync(newPage, created);
        await Assertions.Expect(newPage.GetByText("Signed in: console-made")).ToBeVisibleAsync();

        // Revoke the first project's key from the admin page: its open session ends at its next request.
        await admin.GotoAsync(Url($"/console/admin/projects/{project.ProjectId}"));
        await admin.GetByRole(AriaRole.Button, new() { Name = "Revoke key tests" }).ClickAsync();
        await Assertions.Expect(admin.GetByRole(AriaRole.Status)).ToContainTextAsync("Revoked");
        await projectPage.GotoAsync(Url("/console/endpoints"));
        Assert.Contains("/console/signin", projectPage.Url, StringComparison.Ordinal);

        // A project key cannot open the admin pages.
        await newPage.GotoAsync(Url("/console/admin"));
        Assert.Contains("/console/denied", newPage.Url, StringComparison.Ordinal);
        await CheckPageAsync(newPage);

        // The sign-out page (where a GET of /console/signout lands) signs the admin out with its own form.
        await admin.GotoAsync(Url("/console/signout"));
        await Assertions.Expect(admin.GetByRole(AriaRole.Heading, new() { Name = "Sign out", Level = 1 })).ToBeVisibleAsync();
        await CheckPageAsync(admin);
        await admin.Locator("main").GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await admin.WaitForURLAsync(new Regex("/console/signin"));
        await admin.GotoAsync(Url("/console/admin"));
        Assert.Contains("/console/signin", admin.Url, StringComparison.Ordinal);

        await AssertNoSecretAsync(project.Key, TestGateway.AdminKey, created);
    }

    private static async Task SignInAsync(IPage page, string key)
    {
        await page.GetByLabel("API key or admin key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        // DOMContentLoaded: the page is there; a loaded machine (CI shares two cores) can hold the full load event back.
        await page.WaitForURLAsync(url => !url.Contains("/console/signin", StringComparison.Ordinal),
            new() { WaitUntil = WaitUntilState.DOMContentLoaded, Timeout = 60_000 });
    }

    /// <summary>axe-core: no serious or critical violation; and the page's HTML is kept for the secret check.</summary>
    private async Task CheckPageAsync(IPage page, string? allowed = null)
    {
        var results = await page.RunAxe();
        var bad = results.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(bad.Count == 0, $"{page.Url}: " + string.Join("; ", bad.Select(v => $"{v.Id} ({v.Impact}): {v.Help} [{string.Join(", ", v.Nodes.Select(n => n.Html))}]")));
        var html = await page.ContentAsync();
        _pages.Add(allowed is null ? html : html.Replace(allowed, "", StringComparison.Ordinal));
    }

    private async Task AssertNoSecretAsync(params string[] secrets)
    {
        // The simulator's APNs key material and the gateway's encryption key are never in a page either.
        var all = secrets.Append(TestGateway.EncryptionKey).Append("PRIVATE KEY").ToList();
        Assert.NotEmpty(_pages);
        foreach (var html in _pages)
        {
            foreach (var secret in all)
            {
                Assert.DoesNotContain(secret, html, StringComparison.Ordinal);
            }
        }

        await Task.CompletedTask;
    }
}
