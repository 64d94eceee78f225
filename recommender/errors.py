"""The one exception type the command line turns into a one-line message and exit status 2."""


class InputError(Exception):
    """Bad input the user can fix (missing file, missing column, bad timestamp...)."""
