"""Lots and their lifecycle: event body schemas, the rules of each event, roles, mass
balance, the provenance graph queries and the trace renderings.

Knows nothing about the network: rules read and write state through
`node.provenance.ledger`, queries read any KV.
"""
