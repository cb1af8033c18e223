"""Tests of the api (the api image runs them)."""
