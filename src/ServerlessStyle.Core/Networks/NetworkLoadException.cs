namespace ServerlessStyle.Core.Networks;

/// <summary>Why a loss network could not be loaded.</summary>
public enum NetworkLoadFailure
{
    UnknownSpec,
    FileNotFound,
    NotHdf5,
    NotOnnx,
    WrongArchitecture,

    /// <summary>A network was asked for by name and none is installed where the resolver looks.</summary>
    NotAvailable,

    /// <summary>A model file or blob does not have the SHA-256 recorded for it: corrupted or replaced.</summary>
    DigestMismatch,
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
