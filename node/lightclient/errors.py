"""The one error the light client raises."""


class VerificationError(Exception):
    """The answer does not prove what it claims; the message says where it fails."""
