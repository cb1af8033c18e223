"""Tests of the worker (the worker image runs them)."""
