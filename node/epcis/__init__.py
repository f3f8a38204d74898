"""GS1 EPCIS 2.0 for orechain: capture documents as signed lot events, answer event
queries from chain data, and export provenance answers as EPCIS documents.

The contract (identifiers, units, which event maps to which lot event) is docs/epcis.md.
"""
