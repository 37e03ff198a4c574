"""The HTTP entrypoint: translates requests into commands and queries, and answers in one error shape."""
