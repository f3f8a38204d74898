"""orechain: a permissioned proof-of-authority chain for mineral-lot provenance."""

__version__ = "0.1.0"
