"""Pooled estimates and evidence + the catalogue -> the side-by-side answer, every cell cited."""
