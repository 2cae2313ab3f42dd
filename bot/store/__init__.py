"""Case store: models, database access, encryption, rate limiting and migrations."""
