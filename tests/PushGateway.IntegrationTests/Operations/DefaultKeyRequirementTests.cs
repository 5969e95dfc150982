using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using PushGateway.Hosting;
using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Operations;

/// <summary>
/// Everything under /v1 needs a key unless a route opts out: a route mapped without any key call (as a new route
/// added carelessly would be) is not public.
/// </summary>
public sealed class DefaultKeyRequirementTests(DefaultKeyRequirementTests.ExtraRoutesGateway gateway) : IClassFixture<DefaultKeyRequirementTests.ExtraRoutesGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public sealed class ExtraRoutesGateway : TestGateway
    {
        protected override void ConfigureApp(WebApplication app)
        {
            // No RequireAdminKey / RequireProjectKey: what a forgotten call looks like.
            app.MapGet("/v1/test-only/forgotten", () => "reached");
            app.MapGet("/v1/test-only/public", () => "reached").AllowAnonymous();
        }
    }

    [Fact]
    public async Task V1RouteWithoutKeyRequirement_Answers401WithoutKey_AndWorksWithAnyValidKey()
    {
        using var anonymous = gateway.Client();
        var response = await anonymous.GetAsync("v1/test-only/forgotten", Ct);
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized", Ct);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());

        using var wrong = gateway.Client("pgk_not-a-key");
        await (await wrong.GetAsync("v1/test-only/forgotten", Ct)).AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized", Ct);
        // Upper case reaches the same route (routing ignores case), so it must need the key as well.
        await (await anonymous.GetAsync("V1/TEST-ONLY/forgotten", Ct)).AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized", Ct);

        var project = await gateway.NewProjectAsync(Ct);
        Assert.Equal("reached", await project.Client.GetStringAsync("v1/test-only/forgotten", Ct));
        using var admin = gateway.Admin();
        Assert.Equal("reached", await admin.GetStringAsync("v1/test-only/forgotten", Ct));
    }

    [Fact]
    public async Task V1RouteThatOptsOut_IsOpen()
    {
        using var anonymous = gateway.Client();
        Assert.Equal("reached", await anonymous.GetStringAsync("v1/test-only/public", Ct));
    }

    /// <summary>The default is a safety net; the product's own routes still say which key (admin or project) they need.</summary>
    [Fact]
    public void EveryProductV1Route_DeclaresItsKind()
    {
        var endpoints = gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.TrimStart('/').StartsWith("v1/", StringComparison.OrdinalIgnoreCase) == true
                && !e.RoutePattern.RawText.Contains("test-only", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(endpoints);
        foreach (var endpoint in endpoints)
        {
            var path = new PathString("/" + endpoint.RoutePattern.RawText!.TrimStart('/'));
            Assert.True(ApiKeyAuth.RequiredFor(endpoint, path) is not null, $"{endpoint.DisplayName} is public");
            Assert.True(endpoint.Metadata.GetMetadata<RequiredKey>()?.Kind is KeyKind.Admin or KeyKind.Project or KeyKind.AdminOrProject, $"{endpoint.DisplayName} does not say which key it needs");
        }
    }
}
