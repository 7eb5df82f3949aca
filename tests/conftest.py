"""pytest configuration. Test helpers live in ``tests/helpers.py``."""
