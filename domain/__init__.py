"""The domain ring: entities, value objects, events and errors. Pure: no I/O, no clock reads."""
