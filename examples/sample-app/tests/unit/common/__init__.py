"""Tests of the code that the api and the worker share (both images run them)."""
