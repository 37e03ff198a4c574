"""The entrypoints ring: the HTTP app, the ticker, the command line and the composition root."""
