namespace PushGateway.Quota;

internal static class QuotaSetup
{
    /// <summary>The send quota's options, the check, and the counter of queued deliveries it reads.</summary>
    public static IServiceCollection AddQuota(this IServiceCollection services)
    {
        services.AddOptions<QuotaOptions>()
            .BindConfiguration(QuotaOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(QuotaOptions.IsValid, "Quota: RefreshInterval must be positive and at most a minute.")
            .ValidateOnStart();
        services.AddSingleton<QueuedDeliveries>();
        services.AddHostedService(sp => sp.GetRequiredService<QueuedDeliveries>());
        services.AddSingleton<SendQuota>();
        return services;
    }
}
