var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
app.MapGet("/", () => "PushGateway simulator");
app.Run();
