"""Extension examples of the construct library (see README.md here)."""
