namespace ServerlessStyle.Core.Networks;

/// <summary>Why a loss network could not be loaded.</summary>
public enum NetworkLoadFailure
{
    UnknownSpec,
    FileNotFound,
    NotHdf5,
    NotOnnx,
    WrongArchitecture,
}

/// <summary>A loss network that could not be loaded; the message names the file or spec and the problem.</summary>
public sealed class NetworkLoadException : Exception
{
    public NetworkLoadException(NetworkLoadFailure failure, string message, Exception? inner = null)
        : base(message, inner)
    {
        Failure = failure;
    }

    public NetworkLoadFailure Failure { get; }
}
