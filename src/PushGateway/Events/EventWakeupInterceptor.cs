using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using PushGateway.Data;

namespace PushGateway.Events;

/// <summary>
/// Wakes the webhook dispatchers (<see cref="EventSignal"/>) once an EF Core unit of work that added outbox events is
/// committed: at the end of <c>SaveChanges</c> when it ran in its own transaction, else when the caller's transaction
/// commits. So every event written through the registry (registrations, PATCH, DELETE, the console, the SNS facade)
/// goes out without waiting for the dispatchers' poll, with no code at each of those places. The SQL writers of events
/// (delivery results, the stale-token job, imports) call the signal themselves.
/// </summary>
internal sealed class EventWakeupInterceptor(EventSignal signal) : ISaveChangesInterceptor, IDbTransactionInterceptor
{
    /// <summary>Contexts whose open transaction has events to announce at its commit.</summary>
    private readonly ConditionalWeakTable<DbContext, object> _pending = new();

    public ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Saving(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Saving(eventData.Context);
        return result;
    }

    public ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Saved(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Saved(eventData.Context);
        return result;
    }

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Committed(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Committed(eventData.Context);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Forget(eventData.Context);

    private void Saving(DbContext? context)
    {
        if (context is not null && context.ChangeTracker.Entries<OutboxEvent>().Any(e => e.State == EntityState.Added))
        {
            _pending.AddOrUpdate(context, Marker);
        }
    }

    private void Saved(DbContext? context)
    {
        // Without a transaction of the caller's, SaveChanges committed its own: announce now.
        if (context is not null && context.Database.CurrentTransaction is null && _pending.Remove(context))
        {
            signal.Notify();
        }
    }

    private void Committed(DbContext? context)
    {
        if (context is not null && _pending.Remove(context))
        {
            signal.Notify();
        }
    }

    private void Forget(DbContext? context)
    {
        if (context is not null)
        {
            _pending.Remove(context);
        }
    }

    private static readonly object Marker = new();
}
