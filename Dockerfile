# One multi-stage build for the three deployables; docker-compose.yml picks the stage with `target:`.
# Build context: the repository root (Directory.*.props and the solution must be visible).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore from the project files alone, in its own layer: a change to source files reuses the restored packages.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/PushGateway/PushGateway.csproj src/PushGateway/
COPY src/PushGateway.Data/PushGateway.Data.csproj src/PushGateway.Data/
COPY src/PushGateway.Apns/PushGateway.Apns.csproj src/PushGateway.Apns/
COPY src/PushGateway.Fcm/PushGateway.Fcm.csproj src/PushGateway.Fcm/
COPY src/PushGateway.Simulator/PushGateway.Simulator.csproj src/PushGateway.Simulator/
COPY migrations/PushGateway.Migrations/PushGateway.Migrations.csproj migrations/PushGateway.Migrations/
RUN dotnet restore src/PushGateway/PushGateway.csproj \
 && dotnet restore src/PushGateway.Simulator/PushGateway.Simulator.csproj
COPY . .
RUN dotnet publish src/PushGateway/PushGateway.csproj -c Release --no-restore -o /out/gateway \
 && dotnet publish migrations/PushGateway.Migrations/PushGateway.Migrations.csproj -c Release --no-restore -o /out/migrator \
 && dotnet publish src/PushGateway.Simulator/PushGateway.Simulator.csproj -c Release --no-restore -o /out/simulator

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS gateway
WORKDIR /app
COPY --from=build /out/gateway .
# The image's ASPNETCORE_HTTP_PORTS (8080) is the one listening setting; no Urls beside it (Urls would override it,
# with a warning). HTTP/2 sends rent 32 KB buffers per request; a larger shared pool keeps them from becoming garbage.
ENV ASPNETCORE_HTTP_PORTS=8080 \
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
# The simulator keeps its self-signed certificate (and key) here while it is valid; the gateway mounts the same
# volume to trust it and picks up a new one without a restart.
RUN mkdir -p /certs && chown app /certs
ENV Simulator__Host=0.0.0.0 \
    Simulator__CertificatePath=/certs/simulator.pem \
    Simulator__CertificateHostNames=simulator
EXPOSE 2197 2198 4443 4480
USER app
ENTRYPOINT ["dotnet", "PushGateway.Simulator.dll"]
