"""The application ring: commands, handlers, the message bus and the ports. Imports the domain only."""
