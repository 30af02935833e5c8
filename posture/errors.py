"""Errors a user can cause or fix, each with the exit code the CLI returns (SPEC section 4)."""


class PostureError(Exception):
    """Base class: the message is one line a user can act on."""

    exit_code = 1


class UsageError(PostureError):
    """Bad input or usage: a missing file, an undecodable video, a bad option value."""

    exit_code = 2


class SettingError(UsageError):
    """A setting with a bad value: `field` names it as section.key (for the dashboard to show
    the message beside that field), or is empty when the problem is not one field's."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class ModelError(PostureError):
    """The pose model is missing, corrupt or could not be fetched."""

    exit_code = 3


class CameraError(PostureError):
    """The camera could not be opened or read."""

    exit_code = 4
