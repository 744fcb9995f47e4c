"""Care planning: measures, safety rules and plans for one patient (shared with the clinic)."""
