"""Install the course's Python kernel spec as `python3` in this Python's prefix.

    python binder/kernel/install.py        # postBuild (repo2docker), make venv-hub

ipykernel's own spec (`python -m ipykernel install --sys-prefix` writes the same, with the
same logos), except that the kernel starts through atelier_kernel.py (no debugpy, no aiohttp
in the kernel: see that file) and says `"debugger": false`, so JupyterLab offers no debugger.
`python -m ipykernel install --sys-prefix` puts ipykernel's own spec back (the debugger too).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from ipykernel.kernelspec import get_kernel_dict, write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager

LAUNCHER = Path(__file__).resolve().parent / "atelier_kernel.py"


def main() -> None:
    spec = get_kernel_dict()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(
            write_kernel_spec(
                str(Path(tmp) / "python3"),
                overrides={
                    # "python": the Jupyter server's own Python (jupyter_client), as in the
                    # spec ipykernel's wheel ships.
                    "argv": [
                        "python",
                        "{resource_dir}/" + LAUNCHER.name,
                        "-f",
                        "{connection_file}",
                    ],
                    "metadata": {**spec.get("metadata", {}), "debugger": False},
                },
            )
        )
        shutil.copy(LAUNCHER, folder / LAUNCHER.name)
        where = KernelSpecManager().install_kernel_spec(
            str(folder), kernel_name="python3", prefix=sys.prefix
        )
    print(f"kernel spec python3 (no debugpy, no aiohttp): {where}")
    print(json.dumps(json.loads((Path(where) / "kernel.json").read_text()), indent=1))


if __name__ == "__main__":
    main()
