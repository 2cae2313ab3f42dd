"""Citizen conversations written as data (``*.yml``) and the runner that plays them."""
