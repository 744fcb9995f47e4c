"""Write results to stdout or to a file, atomically (never a half-written file)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from equipoise.errors import EquipoiseError


class OutputError(EquipoiseError):
    """The output file cannot be written."""


def emit(text: str, out: str | None) -> None:
    """Print ``text`` to stdout, or write it to ``out`` via a temporary file and a rename."""
    if out is None or out == "-":
        sys.stdout.write(text)
        return
    target = Path(out)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"--out {out}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a report is an ordinary file
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"--out {out}: {exc.strerror}") from None
    print(f"wrote {target} ({len(text.encode('utf-8')):,} bytes)", file=sys.stderr)
