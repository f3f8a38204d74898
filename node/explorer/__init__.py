"""The explorer page: a static, same-origin web page over the node's JSON-RPC."""
