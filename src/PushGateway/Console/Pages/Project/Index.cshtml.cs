using PushGateway.Applications;
using PushGateway.Data;
using PushGateway.Hosting;

namespace PushGateway.WebConsole.Pages;

public sealed class OverviewModel : ConsolePage
{
    private PushGatewayDbContext db => Service<PushGatewayDbContext>();

    private ConsoleQueries queries => Service<ConsoleQueries>();

    private TimeProvider time => Service<TimeProvider>();

    private static readonly ApplicationQueue NoQueue = new(0, 0, 0);
    private IReadOnlyDictionary<Guid, ApplicationQueue> _queues = new Dictionary<Guid, ApplicationQueue>();

    internal IReadOnlyList<ApplicationResponse> Applications { get; private set; } = [];

    internal IReadOnlyList<OutcomeBucket> Buckets { get; private set; } = [];

    internal ApplicationQueue Queue(Guid applicationId) => _queues.TryGetValue(applicationId, out var q) ? q : NoQueue;

    internal static DateTimeOffset? CertificateExpiry(ApplicationResponse app) =>
        app.Credentials.TryGetProperty("notAfter", out var notAfter) && notAfter.TryGetDateTimeOffset(out var value) ? value : null;

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Applications = RestCall.Read<ApplicationList>(await ApplicationsEndpoints.ListAsync(Scope, db, RestCall.ListLimit, null, cancellationToken)).Value?.Items ?? [];
        var now = time.UtcNow();
        _queues = await queries.QueuesAsync(Applications.Select(a => a.Id).ToList(), now, cancellationToken);
        Buckets = await queries.LastHourAsync(Scope.ProjectId, now, cancellationToken);
    }
}
