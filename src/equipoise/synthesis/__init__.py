"""Evidence -> pooled estimates: pairwise and network meta-analysis, onset over time."""
