using PushGateway.IntegrationTests.Infrastructure;

namespace PushGateway.IntegrationTests.Delivery;

/// <summary>
/// One delivery whose result the database refuses must not replay anybody else's: a trigger makes PostgreSQL refuse
/// the final result of one tenant's delivery (as it refused half a surrogate pair before provider text was cleaned).
/// The other tenant's message, claimed and answered alongside it, reaches its device exactly once; the refused one is
/// sent once and parked with a backoff, never claimed again at once.
/// </summary>
public sealed class PoisonedResultTests(DeliveryGateway gateway) : IClassFixture<DeliveryGateway>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ARowTheDatabaseRefuses_IsParked_AndAnotherTenantsMessageIsDeliveredExactlyOnce()
    {
        var poisoner = await gateway.NewProjectAsync(Ct);
        var other = await gateway.NewProjectAsync(Ct);
        var poisonApp = await gateway.CreateApnsAppAsync(poisoner.Client, Ct);
        var otherApp = await gateway.CreateApnsAppAsync(other.Client, Ct);
        var poisonToken = TestCredentials.ApnsTokenHex();
        var otherTokens = Enumerable.Range(0, 20).Select(_ => TestCredentials.ApnsTokenHex()).ToList();
        var poisoned = (await poisoner.Client.CreateEndpointAsync(poisonApp, poisonToken, Ct)).Id();
        var others = new List<Guid>();
        foreach (var token in otherTokens)
        {
            others.Add((await other.Client.CreateEndpointAsync(otherApp, token, Ct)).Id());
        }

        await gateway.ScalarAsync<int>($$"""
            CREATE OR REPLACE FUNCTION refuse_poisoned_result() RETURNS trigger LANGUAGE plpgsql AS $f$
            BEGIN
              IF NEW.endpoint_id = '{{poisoned}}' AND NEW.state <> 'pending' THEN
                RAISE EXCEPTION 'refused result' USING ERRCODE = '22021';
              END IF;
              RETURN NEW;
            END $f$;
            CREATE TRIGGER refuse_poisoned_result BEFORE UPDATE ON deliveries FOR EACH ROW EXECUTE FUNCTION refuse_poisoned_result();
            SELECT 1;
            """, Ct);
        try
        {
            var poisonMessage = await DeliveryGateway.SendAsync(poisoner.Client, new { target = new { endpointId = poisoned }, data = new { n = "1" } }, Ct);
            var otherMessage = await DeliveryGateway.SendAsync(other.Client, new { target = new { endpointIds = others }, data = new { n = "1" } }, Ct);

            var message = await DeliveryGateway.WaitForMessageAsync(other.Client, otherMessage, Ct);
            Assert.Equal(others.Count, message["counts"]!["delivered"]!.GetValue<long>());
            // Time for any replay loop to show itself.
            await Task.Delay(3000, Ct);

            foreach (var token in otherTokens)
            {
                Assert.Equal(1, gateway.Simulator.State.GetReceived(token: token).Total);
            }

            Assert.Equal(1, gateway.Simulator.State.GetReceived(token: poisonToken).Total);
            var parkedFor = await gateway.ScalarAsync<double>(
                "SELECT extract(epoch FROM next_attempt_at - now())::float8 FROM deliveries WHERE endpoint_id = @e AND state = 'pending' AND provider_reason = 'internal: the result could not be recorded'",
                Ct, ("e", poisoned));
            Assert.InRange(parkedFor, 20, 3600);
            Assert.Equal(1, await gateway.ScalarAsync<int>("SELECT attempts FROM deliveries WHERE endpoint_id = @e", Ct, ("e", poisoned)));
            _ = poisonMessage;
        }
        finally
        {
            await gateway.ScalarAsync<int>("DROP TRIGGER refuse_poisoned_result ON deliveries; SELECT 1;", CancellationToken.None);
        }
    }
}
