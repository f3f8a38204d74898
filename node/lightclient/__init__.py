"""The light client: checks a provenance answer offline, trusting only the genesis.

`verify_provenance(answer, genesis)` is what `orechain verify` runs; what it checks,
per direction, is docs/verification.md.
"""

from node.lightclient.verify import Report, VerificationError, verify_provenance

__all__ = ["Report", "VerificationError", "verify_provenance"]
