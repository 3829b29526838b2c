namespace ServerlessStyle.Cli.Tests;

public sealed class ProgramTests
{
    [Fact]
    public void Main_NoCommandYet_ExitsNonZeroWithClearMessage()
    {
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.NotEqual(0, Program.Main(["run"]));
        }
        finally
        {
            Console.SetError(previous);
        }

        Assert.Contains("not built yet", error.ToString());
    }
}
