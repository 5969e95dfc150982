using Microsoft.Playwright;

namespace PushGateway.IntegrationTests.WebConsole;

/// <summary>
/// Debian's Chromium driven by Playwright for .NET. Browsers cannot be downloaded here, so Playwright is pointed at the
/// system's executable (<c>apt-get install chromium</c>; <c>.ci/run</c> installs it), or PUSHGATEWAY_CHROMIUM.
/// </summary>
public sealed class Browser : IAsyncLifetime
{
    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("PUSHGATEWAY_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Chromium { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"Chromium was not found at {ExecutablePath}: install it (apt-get install chromium) or set PUSHGATEWAY_CHROMIUM.");
        }

        _playwright = await Playwright.CreateAsync();
        Chromium = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // Root (CI) cannot use Chromium's sandbox; the pages are our own on loopback.
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (Chromium is not null)
        {
            await Chromium.CloseAsync();
        }

        _playwright?.Dispose();
    }
}
