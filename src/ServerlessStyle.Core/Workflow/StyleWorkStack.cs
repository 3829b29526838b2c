using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessStyle.Core.Storage;

namespace ServerlessStyle.Core.Workflow;

/// <summary>
/// The decorators every host, test and benchmark runs <see cref="StyleWork"/> through, outermost first:
/// <see cref="CancelAwareStyleWork"/> (a canceled job's stop leaves as <c>JobCanceledException</c>, never retried), then
/// <see cref="GuardedStyleWork"/> (a canceled job's work refused before it starts; attempts counted). One place, so a
/// canceled job is checked once per activity whoever runs it. Hosts and benchmarks (<see cref="Create"/>) also get
/// <see cref="MemoryTrimmingStyleWork"/> outside them.
/// </summary>
public static class StyleWorkStack
{
    /// <summary>
    /// The registered <see cref="StyleWork"/> inside the decorators, and outside them <see cref="MemoryTrimmingStyleWork"/>,
    /// which frees each activity's memory for the next.
    /// </summary>
    public static IStyleWork Create(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return new MemoryTrimmingStyleWork(
            Wrap(
                services.GetRequiredService<StyleWork>(), services.GetRequiredService<JobStorage>(), services.GetRequiredService<IOptions<WorkflowOptions>>(),
                services.GetRequiredService<ILogger<GuardedStyleWork>>()),
            services.GetRequiredService<StyleEngine>().Evaluator,
            services.GetRequiredService<ILogger<MemoryTrimmingStyleWork>>());
    }

    /// <summary><paramref name="work"/> (a <see cref="StyleWork"/>, or a test's stand-in) inside the decorators.</summary>
    public static IStyleWork Wrap(IStyleWork work, JobStorage storage, IOptions<WorkflowOptions> workflow, ILogger<GuardedStyleWork> logger) =>
        new CancelAwareStyleWork(new GuardedStyleWork(work, storage, workflow, logger), storage);
}
