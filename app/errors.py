"""Errors that reach the user. Each message says what happened and what to do."""


class DeskmateError(Exception):
    """Base class: its message is shown to the user as is."""


class ModelMissing(DeskmateError):
    """No built model where one is expected; the message names the command that builds it."""


class ModelCorrupt(DeskmateError):
    """A built model's files do not match its manifest; the message names the command that rebuilds it."""


class ToolRefused(DeskmateError):
    """A call the policy will not run: an ungranted tool, a path outside the granted folders."""


class ConfigError(DeskmateError):
    """The config file could not be read; it was kept aside and defaults are in use."""
