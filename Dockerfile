# One multi-stage build for the three deployables; docker-compose.yml picks the stage with `target:`.
# Build context: the repository root (Directory.*.props and the solution must be visible).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/PushGateway/PushGateway.csproj -c Release -o /out/gateway \
 && dotnet publish migrations/PushGateway.Migrations/PushGateway.Migrations.csproj -c Release -o /out/migrator \
 && dotnet publish src/PushGateway.Simulator/PushGateway.Simulator.csproj -c Release -o /out/simulator

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS gateway
WORKDIR /app
COPY --from=build /out/gateway .
# HTTP/2 sends rent 32 KB buffers per request; a larger shared pool keeps them from becoming garbage under load.
ENV Urls=http://0.0.0.0:8080 \
    DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION=1024
EXPOSE 8080
USER app
ENTRYPOINT ["dotnet", "PushGateway.dll"]

FROM mcr.microsoft.com/dotnet/runtime:10.0 AS migrator
WORKDIR /app
COPY --from=build /out/migrator .
USER app
ENTRYPOINT ["dotnet", "PushGateway.Migrations.dll"]

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS simulator
WORKDIR /app
COPY --from=build /out/simulator .
# The simulator writes its self-signed certificate here; the gateway mounts the same volume to trust it.
RUN mkdir -p /certs && chown app /certs
ENV Simulator__Host=0.0.0.0 \
    Simulator__CertificatePath=/certs/simulator.pem \
    Simulator__CertificateHostNames=simulator
EXPOSE 2197 2198 4443 4480
USER app
ENTRYPOINT ["dotnet", "PushGateway.Simulator.dll"]
