using System.Text.Json.Serialization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace PushGateway.Hosting;

/// <summary>
/// A response property marked <c>JsonIgnore(WhenWritingNull)</c> is left out when null, so it is not required
/// (the framework marks every constructor parameter of a record as required).
/// </summary>
internal sealed class OmittedWhenNullSchemaTransformer : IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (schema.Required is not { Count: > 0 } required || context.JsonTypeInfo.Properties.Count == 0)
        {
            return Task.CompletedTask;
        }

        foreach (var property in context.JsonTypeInfo.Properties)
        {
            var ignore = property.AttributeProvider?.GetCustomAttributes(typeof(JsonIgnoreAttribute), inherit: true)
                .OfType<JsonIgnoreAttribute>().FirstOrDefault();
            if (ignore?.Condition == JsonIgnoreCondition.WhenWritingNull)
            {
                required.Remove(property.Name);
            }
        }

        return Task.CompletedTask;
    }
}
