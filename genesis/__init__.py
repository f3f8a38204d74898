"""Genesis documents shipped with orechain; devnet.json is the embedded default."""
