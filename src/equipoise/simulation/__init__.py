"""Pooled estimates -> patient trajectories: multi-state models, strategies, engine, outcomes."""
