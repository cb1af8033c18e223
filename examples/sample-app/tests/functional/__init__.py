"""Functional tests: from outside the containers, through the api's published port."""
