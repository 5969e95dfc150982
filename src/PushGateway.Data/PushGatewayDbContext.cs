using Microsoft.EntityFrameworkCore;

namespace PushGateway.Data;

public sealed class PushGatewayDbContext(DbContextOptions<PushGatewayDbContext> options) : DbContext(options);
