#!/usr/bin/python3
"""Runs every command of README.md against a fresh demo server.

What counts as a command:
  * every line of a ```sh block (a block is run as one bash script with
    `set -euo pipefail`, so heredocs and continuation lines work);
  * every `peermatch ...` and `curl ...` cell of a table, and every Python
    cell (`c.something(...)`), run in one Python process set up as the
    README's ```python block says. A table's columns are alternatives (the
    CLI, Python and curl forms of one call), so each column is run top to
    bottom as its own pass.
A block right after `<!-- readme-test: skip: REASON -->` is not run (for
`make serve`, the benchmark, a server restart ...); the reason is printed.

The demo server is real: `peermatch import` loads data/demo into a temporary
data directory, `peermatchd` serves it on free loopback ports, and the
README's addresses (127.0.0.1:50051, localhost:8080) are rewritten to them.
Commands run in a temporary directory laid out like a checkout (build/bin,
data, clients), so files the README creates stay there.

Afterwards the demo data must be exactly as loaded, apart from the README's
own example city (ids starting with "example-town").

Usage: readme_test.py --source-dir DIR --bin-dir DIR [--wheel-dir DIR]
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

EXAMPLE_PREFIX = "example-town"
SKIP = re.compile(r"<!--\s*readme-test:\s*skip:\s*(.*?)\s*-->")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def extract(readme):
    """Returns [(line_number, kind, text)] in document order; kind is 'sh',
    'table-sh' or 'python'; skipped blocks come back as kind 'skip'."""
    items = []
    lines = readme.split("\n")
    i = 0
    pending_skip = None
    while i < len(lines):
        line = lines[i]
        m = SKIP.search(line)
        if m:
            pending_skip = m.group(1)
            i += 1
            continue
        if line.startswith("```"):
            lang = line[3:].strip()
            start = i + 1
            j = start
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            body = "\n".join(lines[start:j])
            if lang == "sh":
                if pending_skip is not None:
                    items.append((start, "skip", pending_skip))
                else:
                    items.append((start, "sh", body))
            pending_skip = None
            i = j + 1
            continue
        if line.startswith("|"):
            # A table: its commands are alternatives (CLI, Python, curl), so
            # each column is run from top to bottom as its own pass.
            j = i
            while j < len(lines) and lines[j].startswith("|"):
                j += 1
            columns = {}
            for k in range(i, j):
                for col, cell in enumerate(lines[k].strip().strip("|").split("|")):
                    for code in re.findall(r"`([^`]+)`", cell):
                        if code.startswith("peermatch "):
                            columns.setdefault(col, []).append((k + 1, "table-sh",
                                                                "build/bin/" + code))
                        elif code.startswith("curl "):
                            columns.setdefault(col, []).append((k + 1, "table-sh", code))
                        elif re.match(r"^(\w+(, \w+)* = )?(list\()?c\.[a-z_]+\(", code):
                            columns.setdefault(col, []).append((k + 1, "python", code))
            if pending_skip is not None:
                items.append((i + 1, "skip", pending_skip))
            else:
                for col in sorted(columns):
                    items.extend(columns[col])
            pending_skip = None
            i = j
            continue
        if line.strip():
            pending_skip = None
        i += 1
    return items


def rewrite(cmd, grpc_port, http_port):
    cmd = cmd.replace("127.0.0.1:50051", f"127.0.0.1:{grpc_port}")
    cmd = re.sub(r"(localhost|127\.0\.0\.1):8080", f"127.0.0.1:{http_port}", cmd)
    # curl -s exits 0 on HTTP errors; the test wants them to fail.
    cmd = re.sub(r"(^|[;&|(]\s*|\n\s*)curl ", r"\1curl --fail-with-body ", cmd)
    return cmd


def dump(http_port):
    """Every city and case, as the HTTP API lists them."""
    out = {}
    for what in ("cities", "cases"):
        token = ""
        while True:
            url = f"http://127.0.0.1:{http_port}/v1/{what}?pageSize=100"
            if token:
                url += "&pageToken=" + token
            with urllib.request.urlopen(url, timeout=30) as r:
                page = json.load(r)
            for rec in page.get(what, []):
                out[(what, rec["id"])] = rec
            token = page.get("nextPageToken", "")
            if not token:
                break
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--python-dir", default="")
    ap.add_argument("--wheel-dir", default="",
                    help="where make python-package puts the wheel; the Python cells run in "
                         "a fresh venv with it installed, as the README says")
    args = ap.parse_args()
    src = os.path.abspath(args.source_dir)
    bin_dir = os.path.abspath(args.bin_dir)
    readme = open(os.path.join(src, "README.md"), encoding="utf-8").read()
    items = extract(readme)

    work = tempfile.mkdtemp(prefix="readme-test-")
    os.makedirs(os.path.join(work, "build"))
    os.symlink(bin_dir, os.path.join(work, "build", "bin"))
    if args.python_dir:
        os.symlink(os.path.abspath(args.python_dir), os.path.join(work, "build", "python"))
    for name in ("data", "clients", "proto"):
        os.symlink(os.path.join(src, name), os.path.join(work, name))

    data_dir = os.path.join(work, "var", "peermatch")
    os.makedirs(os.path.dirname(data_dir))
    grpc_port, http_port = free_port(), free_port()
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("PEERMATCH_"):
            del env[k]
    env["PEERMATCH_SERVER"] = f"127.0.0.1:{grpc_port}"
    subprocess.run([os.path.join(bin_dir, "peermatch"), "import", "--data-dir", data_dir,
                    "--file", os.path.join(src, "data/demo/cities.jsonl"),
                    "--file", os.path.join(src, "data/demo/cases.jsonl")],
                   check=True, env=env, cwd=work, stdout=subprocess.DEVNULL)
    server = subprocess.Popen([os.path.join(bin_dir, "peermatchd"), "--data-dir", data_dir,
                               "--listen", f"127.0.0.1:{grpc_port}",
                               "--http-listen", f"127.0.0.1:{http_port}", "--quiet"],
                              env=env, cwd=work, stdout=subprocess.DEVNULL)
    failures = []
    ran = 0
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthz", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        before = dump(http_port)

        py = None
        for line_no, kind, text in items:
            if kind == "skip":
                print(f"README.md:{line_no}: not run: {text}")
                continue
            if kind == "python":
                if py is None:
                    py = start_python(work, env, grpc_port, readme,
                                      install_client(work, args.wheel_dir, env))
                ok, out = run_python(py, text)
            else:
                script = rewrite(text, grpc_port, http_port)
                ok, out = run_shell(script, work, env)
            ran += 1
            status = "ok" if ok else "FAILED"
            print(f"README.md:{line_no}: {status}: {text.splitlines()[0] if text else ''}")
            if not ok:
                failures.append((line_no, text, out))
        if py is not None:
            py.stdin.close()
            py.wait(timeout=30)

        after = dump(http_port)
        strip = lambda d: {k: v for k, v in d.items() if not k[1].startswith(EXAMPLE_PREFIX)}
        b, a = strip(before), strip(after)
        if b != a:
            changed = sorted(set(k for k in set(b) | set(a) if b.get(k) != a.get(k)))
            failures.append((0, "demo data unchanged", f"changed records: {changed[:20]}"))
    finally:
        server.terminate()
        server.wait(timeout=60)
    for line_no, text, out in failures:
        print(f"\nREADME.md:{line_no}: FAILED\n--- command\n{text}\n--- output\n{out[-3000:]}")
    print(f"\n{ran} README commands run, {len(failures)} failures")
    if ran == 0:
        print("no commands found: the extraction is broken")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


def run_shell(script, work, env, timeout=120):
    """Runs a README block in its own process group, so a command that does
    not end (a server started by the block) is killed with its children."""
    import signal
    p = subprocess.Popen(["bash", "-c", "set -euo pipefail\n" + script], cwd=work, env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        return p.returncode == 0, out
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        return False, out + f"\nstill running after {timeout} s (a README command must end)"


PY_DRIVER = r"""
import sys, traceback
ns = {}
exec(sys.stdin.readline().encode().decode("unicode_escape"), ns)
for line in sys.stdin:
    code = line.encode().decode("unicode_escape")
    try:
        exec(code, ns)
        print("OK", flush=True)
    except Exception:
        print("ERR " + traceback.format_exc().replace("\n", "\\n"), flush=True)
"""


def install_client(work, wheel_dir, env):
    """The README's install: a venv with Debian's site packages, the wheel
    pip-installed into it. Returns its interpreter (/usr/bin/python3 when
    no wheel directory is given)."""
    if not wheel_dir:
        return "/usr/bin/python3"
    import glob
    wheels = glob.glob(os.path.join(wheel_dir, "peermatch_client-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel in {wheel_dir}, found {wheels}")
    venv = os.path.join(work, "venv")
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", "--without-pip",
                    venv], check=True)
    python = os.path.join(venv, "bin", "python")
    clean = {k: v for k, v in env.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--no-cache-dir", wheels[0]], check=True, env=clean)
    return python


def start_python(work, env, grpc_port, readme, python):
    # The README's set-up block for the Python examples: the ```python block.
    m = re.search(r"```python\n(.*?)```", readme, re.S)
    setup = m.group(1).replace("127.0.0.1:50051", f"127.0.0.1:{grpc_port}")
    env = {k: v for k, v in env.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    p = subprocess.Popen([python, "-c", PY_DRIVER], cwd=work, env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    p.stdin.write(setup.encode("unicode_escape").decode() + "\n")
    p.stdin.flush()
    return p


def run_python(p, code):
    p.stdin.write(code.encode("unicode_escape").decode() + "\n")
    p.stdin.flush()
    reply = p.stdout.readline()
    if reply.startswith("OK"):
        return True, ""
    return False, reply[4:].replace("\\n", "\n") if reply else "python driver died"


if __name__ == "__main__":
    sys.exit(main())
