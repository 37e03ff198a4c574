"""One small handler per command, plus the event subscribers; `entrypoints.bootstrap` wires them."""
