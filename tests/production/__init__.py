"""Tests of the production profile: PostgreSQL, Redis, several workers and replicas."""
