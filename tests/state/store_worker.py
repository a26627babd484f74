"""A second recon process for the store tests: records a pickled match result, and holds the
store's transaction open after every write for HOLD seconds (printing "holding" first), so the test
can kill it mid-write or race it.

    python store_worker.py STORE_URL MATCH_PICKLE HOLD_SECONDS
"""

from __future__ import annotations

import pickle
import sys
import time
from pathlib import Path
from typing import Any

from recon.state import findings_io
from recon.state.record import RunInfo, record_run
from recon.state.store import Store


def main(url: str, pickled: str, hold: float) -> None:
    match_result = pickle.loads(Path(pickled).read_bytes())
    real_update = findings_io.update

    def update_then_hold(*args: Any, **kwargs: Any) -> Any:
        result = real_update(*args, **kwargs)
        print("holding", flush=True)
        time.sleep(hold)
        return result

    findings_io.update = update_then_hold  # type: ignore[assignment]
    with Store.open(url) as store:
        record = record_run(store, RunInfo("worker"), match_result, {})
    print(f"recorded {record.run_id}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
