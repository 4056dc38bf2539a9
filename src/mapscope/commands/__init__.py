"""One module per CLI command; each only wires readers, analyses and renderers together."""
