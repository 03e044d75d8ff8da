"""Models of the evaluation app, one module per concern (suites and runs; the arena)."""
