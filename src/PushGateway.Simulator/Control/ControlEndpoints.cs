using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace PushGateway.Simulator.Control;

/// <summary>The control API (plain HTTP on the control listener); every handler is a thin call into <see cref="SimulatorState"/>.</summary>
internal static class ControlEndpoints
{
    public static void MapControl(this IEndpointRouteBuilder app, SimulatorState state)
    {
        var control = app.MapGroup("/control");

        control.MapPost("/reset", () =>
        {
            state.Reset();
            return Results.NoContent();
        });

        control.MapGet("/settings", () => Results.Ok(state.Settings));
        control.MapPut("/settings", (SimulatorSettingsUpdate update) => Guard(() => Results.Ok(state.UpdateSettings(update))));

        control.MapPost("/apns/keys", (ApnsKeyRequest request) => Guard(() => Results.Ok(state.AddApnsKey(request))));
        control.MapDelete("/apns/keys/{keyId}", (string keyId) =>
        {
            state.RevokeApnsKey(keyId);
            return Results.NoContent();
        });
        control.MapPost("/apns/certificates", (ApnsCertificateRequest request) => Guard(() => Results.Ok(state.AddApnsCertificate(request))));

        control.MapPost("/fcm/service-accounts", (FcmServiceAccountRequest request) => Guard(() => Results.Ok(state.AddFcmServiceAccount(request))));
        control.MapPost("/fcm/access-tokens/revoke", () =>
        {
            state.RevokeFcmAccessTokens();
            return Results.NoContent();
        });

        control.MapPut("/tokens/{token}", (string token, TokenBehavior behavior) => Guard(() =>
        {
            state.SetTokenBehavior(token, behavior);
            return Results.NoContent();
        }));
        control.MapDelete("/tokens/{token}", (string token) =>
        {
            state.ClearTokenBehavior(token);
            return Results.NoContent();
        });

        control.MapGet("/received", (string? platform, string? token, int? limit) =>
            Results.Ok(state.GetReceived(platform, token, limit is null or < 0 ? 100 : limit.Value)));
        control.MapDelete("/received", () =>
        {
            state.ClearReceived();
            return Results.NoContent();
        });

        control.MapGet("/counters", () => Results.Ok(state.GetCounters()));
    }

    private static IResult Guard(Func<IResult> action)
    {
        try
        {
            return action();
        }
        catch (ArgumentException ex)
        {
            return Results.BadRequest(new Dictionary<string, string> { ["error"] = ex.Message });
        }
    }
}
