"""`equipoise <verb>` / `equipoise <group> <verb>`: results to stdout, messages to stderr."""
