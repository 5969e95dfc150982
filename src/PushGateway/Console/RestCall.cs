using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace PushGateway.WebConsole;

/// <summary>What a REST handler answered: its value, or the problem it reported (shown to the operator as is).</summary>
internal sealed record RestOutcome<T>(T? Value, ProblemDetails? Problem)
{
    public bool Succeeded => Problem is null;

    /// <summary>The problem's field errors and detail as lines for the page.</summary>
    public IReadOnlyList<string> Messages => Problem switch
    {
        null => [],
        HttpValidationProblemDetails v when v.Errors.Count > 0 => v.Errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}")).ToList(),
        _ => [Problem.Detail ?? Problem.Title ?? "The request was refused."],
    };
}

/// <summary>
/// The console does what the REST API does by calling the API's own handlers: the same validation, scoping and
/// rules, with no second implementation. A handler that reads a JSON body gets one built from the form.
/// </summary>
internal static class RestCall
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    /// <summary>The page size the console asks list routes for: it shows one page of up to this many.</summary>
    public const string ListLimit = "1000";

    public static RestOutcome<T> Read<T>(IResult result) => result switch
    {
        ProblemHttpResult problem => new(default, problem.ProblemDetails),
        IValueHttpResult<T> value => new(value.Value, null),
        IStatusCodeHttpResult { StatusCode: >= 200 and < 300 } => new(default, null),
        _ => new(default, new ProblemDetails { Title = "Unexpected answer.", Detail = "The request could not be completed." }),
    };

    /// <summary>A request carrying <paramref name="body"/> as JSON, with the current request's services.</summary>
    public static HttpRequest JsonRequest(HttpContext current, object body)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body, Web);
        var context = new DefaultHttpContext { RequestServices = current.RequestServices };
        context.Request.Method = HttpMethods.Post;
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = bytes.Length;
        context.Request.Body = new MemoryStream(bytes);
        return context.Request;
    }
}
