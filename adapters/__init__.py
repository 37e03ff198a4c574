"""The adapters ring: one implementation per port. Imports application ports and the domain."""
