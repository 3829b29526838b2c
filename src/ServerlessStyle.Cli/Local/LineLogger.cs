using System.Globalization;
using Microsoft.Extensions.Logging;
using ServerlessStyle.CommandLine;

namespace ServerlessStyle.Cli.Local;

/// <summary>
/// The worker's log: one line per message, "HH:mm:ss.fff message", written at once (a worker killed with -9 has already
/// said which chunk it was running), without stack traces or keys. The project's own categories log from
/// Information, Durable Task's from Warning.
/// </summary>
internal sealed class LineLoggerProvider(TextWriter output) : ILoggerProvider
{
    private readonly object _lock = new();

    public ILogger CreateLogger(string categoryName) => new LineLogger(this, MinimumLevel(categoryName));

    public void Dispose()
    {
    }

    private static LogLevel MinimumLevel(string category) =>
        category.StartsWith("ServerlessStyle.", StringComparison.Ordinal) ? LogLevel.Information
        // The dispatcher logs an abandoned activity (a worker stopping) as an error with a stack trace; the worker's own
        // line says it plainly, so only DurableTask.Core's critical lines remain.
        : category.StartsWith("DurableTask.Core", StringComparison.Ordinal) ? LogLevel.Critical
        : LogLevel.Warning;

    private void Write(LogLevel level, string message)
    {
        var prefix = level >= LogLevel.Warning ? $"{level.ToString().ToLowerInvariant()}: " : "";
        var line = $"{DateTime.Now.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)} {prefix}{Secrets.Redact(message)}";
        lock (_lock)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }

    private sealed class LineLogger(LineLoggerProvider provider, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var message = formatter(state, exception);
            if (exception is not null && !message.Contains(exception.Message, StringComparison.Ordinal))
            {
                message = $"{message}: {exception.Message}";
            }

            // Durable Task's messages may quote a whole exception, stack trace included, over many lines: the log keeps
            // one line per message and what comes before the first stack frame or inner exception.
            foreach (var cut in new[] { " ---> ", "\n   at ", "   at System.", "   at Azure.", "   at DurableTask." })
            {
                var at = message.IndexOf(cut, StringComparison.Ordinal);
                if (at > 0)
                {
                    message = message[..at];
                }
            }

            provider.Write(logLevel, message.ReplaceLineEndings(" ").Trim());
        }
    }
}
