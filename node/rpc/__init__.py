"""JSON-RPC 2.0 over aiohttp: the node's API for clients, explorers and auditors."""
