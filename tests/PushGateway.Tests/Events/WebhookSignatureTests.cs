using System.Text;
using System.Text.RegularExpressions;
using PushGateway.Events;

namespace PushGateway.Tests.Events;

public sealed partial class WebhookSignatureTests
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("whsec_0123456789abcdef");
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"id":"0195f0b0-0000-7000-8000-000000000001","type":"endpointCreated","note":"café"}""");

    [Fact]
    public void Header_KnownVector_MatchesIndependentHmac()
    {
        // Computed independently:
        //   printf '%s' '1767225600.{"id":…,"note":"café"}' | openssl dgst -sha256 -hmac 'whsec_0123456789abcdef'
        Assert.Equal(
            "t=1767225600,v1=c2dac927d980a4d6a2add104510b7ff0197e4bdd38518314feb5765ac7450acf",
            WebhookSignature.Header(Secret, 1767225600, Body));
    }

    [Fact]
    public void Header_HasContractFormat_LowercaseHex()
    {
        var header = WebhookSignature.Header(Secret, 42, Body);
        Assert.Matches(HeaderFormat(), header);
    }

    [Fact]
    public void Compute_DifferentTimestampOrBodyOrKey_ChangesSignature()
    {
        var reference = WebhookSignature.Compute(Secret, 1767225600, Body);
        Assert.NotEqual(reference, WebhookSignature.Compute(Secret, 1767225601, Body));
        Assert.NotEqual(reference, WebhookSignature.Compute(Secret, 1767225600, [.. Body, (byte)' ']));
        Assert.NotEqual(reference, WebhookSignature.Compute(Encoding.UTF8.GetBytes("whsec_0123456789abcdeF"), 1767225600, Body));
    }

    [GeneratedRegex("^t=[0-9]+,v1=[0-9a-f]{64}$")]
    private static partial Regex HeaderFormat();
}

public sealed class WebhookBackoffTests
{
    private static readonly TimeSpan Base = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Max = TimeSpan.FromMinutes(10);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(5, 16)]
    [InlineData(10, 512)]
    [InlineData(11, 600)]
    [InlineData(40, 600)]
    [InlineData(100_000, 600)]
    public void Delay_StaysWithinHalfToFullOfCappedExponential(int attempts, double fullSeconds)
    {
        var low = WebhookBackoff.Delay(attempts, null, Base, Max, 0);
        var high = WebhookBackoff.Delay(attempts, null, Base, Max, 0.999_999);
        Assert.Equal(fullSeconds / 2, low.TotalSeconds, 3);
        Assert.InRange(high.TotalSeconds, fullSeconds * 0.999, fullSeconds);
        for (var i = 0; i < 200; i++)
        {
            var delay = WebhookBackoff.Delay(attempts, null, Base, Max, Random.Shared.NextDouble());
            Assert.InRange(delay, low, high);
            Assert.True(delay <= Max, $"{delay} exceeds the cap");
        }
    }

    [Fact]
    public void Delay_IsNeverBelowHalfTheBase_EvenForAttemptZero()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(500), WebhookBackoff.Delay(0, null, Base, Max, 0));
    }

    [Fact]
    public void Delay_RetryAfter_IsHonouredAsGiven()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), WebhookBackoff.Delay(1, TimeSpan.FromSeconds(30), Base, Max, 0.5));
        // Longer than the cap too: the receiver asked for it.
        Assert.Equal(TimeSpan.FromMinutes(20), WebhookBackoff.Delay(1, TimeSpan.FromMinutes(20), Base, Max, 0.5));
    }

    [Fact]
    public void Delay_ZeroRetryAfter_FallsBackToBackoff()
    {
        Assert.Equal(TimeSpan.FromSeconds(2), WebhookBackoff.Delay(3, TimeSpan.Zero, Base, Max, 0));
    }
}
