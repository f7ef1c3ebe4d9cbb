"""Errors a user can cause and fix: shown as one line, never as a traceback."""


class UserError(Exception):
    """A mistake in user input (file, setting, argument). The CLI prints it on one line and exits 2."""

    exit_code = 2


class ConfigError(UserError):
    """The watch file or a setting is invalid; the message names the file and the field."""


def first_line(exc: BaseException, limit: int = 200) -> str:
    """An exception as one short line: its message's first line, or its type when it says nothing."""
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:limit]
