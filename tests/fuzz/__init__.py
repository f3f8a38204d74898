"""Hostile-input fuzzing of decoders, p2p framing and a live node's JSON-RPC."""
