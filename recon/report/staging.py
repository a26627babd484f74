"""Write a run's outputs into a staging folder, and move them into place only once all are written.

A disk that fills half-way, a folder that goes away or a run killed while writing leaves the
previous outputs as they were, never a mix of two runs. The staging folder sits inside the output
folder, on the same filesystem, so moving a file into place is a rename.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from recon.errors import ConfigError, OutputError

PREFIX = ".recon-writing-"


def check_out_dir(out_dir: Path, option: str = "--out") -> None:
    """ConfigError (exit code 2) before any work when ``out_dir`` cannot take the outputs: it is a
    file, or a folder recon may not create or write in."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{option} {out_dir} is a file; give a folder for the outputs")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(prefix=PREFIX, dir=out_dir))
    except OSError as exc:
        raise ConfigError(f"{option} {out_dir}: cannot write there ({_reason(exc)})") from None


@contextmanager
def staged(out_dir: Path, failed: Callable[[], str] = lambda: "") -> Iterator[Path]:
    """A new staging folder inside ``out_dir``, removed afterwards whatever happens.

    On any error ``failed()`` runs first (the caller records the run as not written and returns a
    sentence saying so); an OSError (disk full, permission, a path gone) becomes one OutputError
    naming the folder and the file, exit code 3.
    """
    check_out_dir(out_dir)
    staging = Path(tempfile.mkdtemp(prefix=PREFIX, dir=out_dir))
    try:
        yield staging
    except OSError as exc:
        told = failed()
        where = f" ({exc.filename})" if exc.filename else ""
        raise OutputError(
            f"could not write the outputs to {out_dir}: {_reason(exc)}{where}; the earlier "
            f"outputs there were left as they were. {told}".rstrip()
        ) from exc
    except BaseException:
        failed()
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def publish(staging: Path, out_dir: Path, files: list[Path]) -> tuple[Path, ...]:
    """Move everything written under ``staging`` into ``out_dir`` (replacing the previous run's
    files of the same names); ``files`` re-pointed at their new places."""
    for path in sorted(p for p in staging.rglob("*") if not p.is_dir()):
        target = out_dir / path.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
    return tuple(out_dir / p.relative_to(staging) for p in files)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__
