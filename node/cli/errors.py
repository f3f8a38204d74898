"""The CLI's user-facing failure: printed as one line, exit status 1."""


class CliError(Exception):
    pass
