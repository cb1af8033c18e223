"""The background worker of the sample application."""
