"""The HTTP API of the sample application."""
