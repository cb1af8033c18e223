"""Unit tests of pure logic; they run inside the built images, with no network."""
