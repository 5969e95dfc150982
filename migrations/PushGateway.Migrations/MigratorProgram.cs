namespace PushGateway.Migrations;

public static class MigratorProgram
{
    public static int Main() => 0;
}
