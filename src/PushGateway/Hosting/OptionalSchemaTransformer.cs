using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace PushGateway.Hosting;

/// <summary>Describes <see cref="Optional{T}"/> properties as the plain (nullable) value they are on the wire.</summary>
internal sealed class OptionalSchemaTransformer : IOpenApiSchemaTransformer
{
    public async Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = context.JsonTypeInfo.Type;
        if (!type.IsGenericType || type.GetGenericTypeDefinition() != typeof(Optional<>))
        {
            return;
        }

        var inner = await context.GetOrCreateSchemaAsync(type.GetGenericArguments()[0], null, cancellationToken);
        schema.Properties?.Clear();
        schema.Type = inner.Type | JsonSchemaType.Null;
        schema.Format = inner.Format;
        schema.Properties = inner.Properties;
        schema.Required = inner.Required;
        schema.Items = inner.Items;
    }
}
