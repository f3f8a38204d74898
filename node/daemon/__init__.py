"""One running node: configuration, the ledger, block production, and process lifecycle."""
