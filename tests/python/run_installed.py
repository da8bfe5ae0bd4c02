#!/usr/bin/python3
"""Runs the Python client's tests against the INSTALLED wheel (ctest python_client).

    run_installed.py --dist build/python-dist --venv build/python-venv --bin-dir build/bin

1. Makes a fresh virtual environment VENV that sees Debian's site packages
   (grpcio, protobuf, and pip itself: `--without-pip` saves the half
   minute ensurepip takes), as `python3 -m venv --system-site-packages`.
2. Installs the one wheel in DIST into it (`pip install --no-deps
   --no-index`); the tests check that Debian's packages meet its
   requirements (`pip check` would also judge unrelated Debian packages).
3. Runs tests/python with the venv's interpreter, from an empty temporary
   directory, with PYTHONPATH and PEERMATCH_PYTHON_STUBS removed, so that
   nothing can come from the source tree; PEERMATCH_PYTHON_VENV tells the
   tests where the package must have come from (they assert it).
"""

import argparse
import glob
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dist", required=True)
    p.add_argument("--venv", required=True)
    p.add_argument("--bin-dir", required=True)
    args = p.parse_args()
    venv = os.path.abspath(args.venv)

    wheels = glob.glob(os.path.join(args.dist, "peermatch_client-*.whl"))
    if len(wheels) != 1:
        sys.exit("run_installed: expected one wheel in %s, found %s (make python-package)"
                 % (args.dist, wheels))
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--clear", "--system-site-packages",
                    "--without-pip", venv], check=True)
    python = os.path.join(venv, "bin", "python")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PEERMATCH_PYTHON_STUBS")}
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--no-cache-dir", wheels[0]], check=True, env=env)

    env.update(PEERMATCH_PYTHON_VENV=venv, PEERMATCH_BIN_DIR=os.path.abspath(args.bin_dir))
    with tempfile.TemporaryDirectory(prefix="peermatch-pytest-cwd-") as cwd:
        done = subprocess.run([python, "-m", "unittest", "discover", "-s", HERE, "-v"],
                              cwd=cwd, env=env)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
