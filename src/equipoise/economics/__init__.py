"""Outcomes -> decision: incremental analysis, net benefit, CEAC and EVPI over draws."""
