using System.Net;
using System.Text.RegularExpressions;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.WebConsole;

/// <summary>
/// Two gateway replicas on one database: a console session made on one is valid on the other, because the
/// data-protection keys that seal the cookie live in PostgreSQL, not in a replica's memory or disk.
/// </summary>
public sealed partial class ConsoleReplicaTests(TestGateway first) : IClassFixture<TestGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    private sealed class Replica(string connectionString) : TestGateway
    {
        public override async ValueTask InitializeAsync() => await StartAsync(connectionString);
    }

    [Fact]
    public async Task SessionMadeOnOneReplica_IsAcceptedByAnother()
    {
        var project = await first.NewProjectAsync(Ct);
        var cookies = new CookieContainer();
        using var onFirst = Browserless(first.BaseAddress, cookies);
        var form = await onFirst.GetStringAsync("console/signin", Ct);
        var token = AntiforgeryField().Match(form).Groups[1].Value;
        var signIn = await onFirst.PostAsync("console/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["key"] = project.Key,
            ["__RequestVerificationToken"] = token,
        }), Ct);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/console", signIn.Headers.Location?.OriginalString);
        Assert.True(await first.ScalarAsync<long>("SELECT count(*) FROM data_protection_keys", Ct) >= 1);

        await using var second = new Replica(first.ConnectionString);
        await second.InitializeAsync();
        // Cookies are scoped to the host, not the port: the same session cookie goes to the second replica.
        using var onSecond = Browserless(second.BaseAddress, cookies);
        var page = await onSecond.GetAsync("console/endpoints", Ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<label for=\"q\">Search endpoints</label>", await page.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        // Without the session a replica sends the browser to sign in.
        using var anonymous = Browserless(second.BaseAddress, new CookieContainer());
        var refused = await anonymous.GetAsync("console/endpoints", Ct);
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        var location = refused.Headers.Location!;
        Assert.StartsWith("/console/signin", location.IsAbsoluteUri ? location.PathAndQuery : location.OriginalString, StringComparison.Ordinal);
    }

    private static HttpClient Browserless(Uri baseAddress, CookieContainer cookies) =>
        new(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = baseAddress };
}
