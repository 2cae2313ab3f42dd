"""`make bench`: load driver, configurations and report of the production profile."""
