"""`orechain verify`'s entry point: the light client in node.lightclient checks a saved
provenance answer offline against a genesis document (docs/verification.md)."""

from node.lightclient import Report, VerificationError, verify_provenance

__all__ = ["Report", "VerificationError", "verify_provenance"]
