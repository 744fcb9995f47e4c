"""Bundled data with its provenance; ``load_*()`` functions return validated objects.

Files in ``data/`` (see ``data/PROVENANCE.md`` for hashes and changes):

- ``evidence.csv``, ``protocols.csv``: the project's verified seed evidence base, copied byte for
  byte (one published number per row, each with citation, identifiers, page read, location and a
  verbatim fragment).
- ``additions.csv``: regulatory facts equipoise read itself to give each regulatory statement a
  DOI-bearing source; same columns and rules.
- ``source_identifiers.csv``: PMIDs and DOIs equipoise verified for seed rows that lacked them; the
  seed file is not edited, the identifiers are joined on load and marked as added.
- ``treatments.json``: the treatment catalogue (see :mod:`equipoise.evidence.treatments`).
"""

from equipoise.datasets.loaders import (
    bundled_paths,
    load_catalogue,
    load_evidence,
    load_identifier_additions,
)

__all__ = ["bundled_paths", "load_catalogue", "load_evidence", "load_identifier_additions"]
