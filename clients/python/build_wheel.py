#!/usr/bin/python3
"""Builds the peermatch-client wheel, generated stubs included, offline.

    build_wheel.py --stubs build/python --out build/python-dist --work build/python-package

Stages clients/python (pyproject.toml, README.md, peermatch_client/) with
every module the CMake build generated under STUBS/peermatch/ (whatever the
protos are), makes each stub folder a regular package, and runs
`pip wheel --no-build-isolation --no-deps --no-index` over the stage with
Debian's setuptools and wheel. OUT then holds exactly one wheel; its path is
printed. Fails when the wheel lacks a stub it was given.
"""

import argparse
import os
import shutil
import subprocess
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--stubs", required=True, help="the folder holding peermatch/v1/*_pb2.py")
    p.add_argument("--out", required=True)
    p.add_argument("--work", required=True)
    args = p.parse_args()

    stubs = os.path.join(args.stubs, "peermatch")
    if not os.path.isfile(os.path.join(stubs, "v1", "peermatch_pb2.py")):
        sys.exit("build_wheel: no generated stubs in %s (build target peermatch_python_stubs)"
                 % stubs)
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(os.path.join(HERE, name), os.path.join(args.work, name))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(os.path.join(HERE, "peermatch_client"),
                    os.path.join(args.work, "peermatch_client"), ignore=ignore)
    shutil.copytree(stubs, os.path.join(args.work, "peermatch"), ignore=ignore)
    expected = []
    for folder, _, files in os.walk(os.path.join(args.work, "peermatch")):
        open(os.path.join(folder, "__init__.py"), "a").close()
        rel = os.path.relpath(folder, args.work)
        expected += [os.path.join(rel, f).replace(os.sep, "/") for f in files if f.endswith(".py")]

    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-build-isolation",
                    "--no-deps", "--no-index", "--wheel-dir", args.out, args.work], check=True)
    wheels = [f for f in os.listdir(args.out) if f.endswith(".whl")]
    if len(wheels) != 1:
        sys.exit("build_wheel: expected one wheel in %s, found %s" % (args.out, wheels))
    wheel = os.path.join(args.out, wheels[0])
    with zipfile.ZipFile(wheel) as z:
        missing = sorted(set(expected) - set(z.namelist()))
    if missing:
        sys.exit("build_wheel: %s lacks %s" % (wheel, ", ".join(missing)))
    print(wheel)


if __name__ == "__main__":
    main()
