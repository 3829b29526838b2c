namespace ServerlessStyle.CommandLine;

/// <summary>Thrown for bad command-line input; the message is the one line the user sees.</summary>
public sealed class CliUsageException(string message, Exception? inner = null) : Exception(message, inner);
