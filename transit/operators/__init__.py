"""The operators whose feeds make up the network."""
