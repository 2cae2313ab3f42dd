"""The back office web application: JSON API (and, later, the staff console)."""
