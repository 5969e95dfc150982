namespace PushGateway.Retention;

internal static class RetentionSetup
{
    /// <summary>Options and (unless <c>Retention:Enabled</c> is false) the retention job.</summary>
    public static IServiceCollection AddRetention(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RetentionOptions>()
            .BindConfiguration(RetentionOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(RetentionOptions.IsValid, "Retention: Messages, IdempotencyKeys and Interval must be positive.")
            .ValidateOnStart();
        if (configuration.GetValue($"{RetentionOptions.SectionName}:Enabled", true))
        {
            services.AddSingleton<RetentionStore>();
            services.AddSingleton<RetentionMetrics>();
            services.AddHostedService<HistoryRetention>();
        }

        return services;
    }
}
