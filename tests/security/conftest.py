"""The security and privacy suite: each module performs one attack or fault against the real
processes (or the real application) and asserts what a user would see and what is stored.
Fixtures of one module stay in that module or in a ``*_support.py`` beside it."""
