#!/usr/bin/python3
"""Runs one libFuzzer target over a temporary copy of its seed corpus.

Used by the fuzz targets' ctests (cmake/fuzz.cmake): a bounded smoke run of
--max-total-time seconds, or, when $PEERMATCH_FUZZ_RUNS is set (`make fuzz`),
exactly that many executions. The source tree's corpora are never written.

Prints one line, "fuzz NAME: N executions, C crashes, T s (E exec/s)", and
appends it, tab-separated, to $PEERMATCH_FUZZ_SUMMARY when that is set.
Exits non-zero when the target crashed (or leaked, timed out, ran out of
memory), naming the input it saved under --artifacts, or did not run.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--name", required=True)
    p.add_argument("--binary", required=True)
    p.add_argument("--corpus", action="append", default=[])
    p.add_argument("--dict")
    p.add_argument("--max-total-time", type=int, default=10)
    p.add_argument("--artifacts", required=True)
    args, extra = p.parse_known_args()
    args.binary = os.path.abspath(args.binary)
    args.artifacts = os.path.abspath(args.artifacts)
    if args.dict:
        args.dict = os.path.abspath(args.dict)

    runs = os.environ.get("PEERMATCH_FUZZ_RUNS")
    os.makedirs(args.artifacts, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="peermatch-fuzz-") as work:
        corpus = os.path.join(work, "corpus")
        os.makedirs(corpus)
        seeds = 0
        for source in args.corpus:
            for name in sorted(os.listdir(source)):
                path = os.path.join(source, name)
                if os.path.isfile(path):
                    shutil.copyfile(path, os.path.join(corpus, "%03d-%s" % (seeds, name)))
                    seeds += 1
        command = [args.binary, corpus, "-print_final_stats=1",
                   "-artifact_prefix=" + os.path.join(args.artifacts, ""),
                   "-timeout=30", "-rss_limit_mb=4096"]
        if args.dict:
            command.append("-dict=" + args.dict)
        command += ["-runs=" + runs] if runs else ["-max_total_time=%d" % args.max_total_time]
        command += extra
        before = set(os.listdir(args.artifacts))
        start = time.monotonic()
        # A target's own temporary files (rpc_fuzz's store) go under `work`
        # too, and so are removed even when it crashes.
        env = dict(os.environ, TMPDIR=work)
        # ASan's default 256 MB quarantine (freed memory held back to catch
        # late use-after-free) made records_fuzz's RSS climb to 1.7 GB over a
        # long run; 64 MB still catches a use shortly after the free.
        env.setdefault("ASAN_OPTIONS", "quarantine_size_mb=64")
        env.setdefault("LSAN_OPTIONS", "suppressions=" + os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "lsan_suppressions.txt"))
        done = subprocess.run(command, cwd=work, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, errors="replace")
        seconds = time.monotonic() - start
        log = done.stdout
        # slow-unit-* inputs are reported, not failures (-timeout is the limit).
        new = sorted(set(os.listdir(args.artifacts)) - before)
        found = [f for f in new if not f.startswith("slow-unit-")]
        slow = [f for f in new if f.startswith("slow-unit-")]
        stat = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
        executions = int(stat.group(1)) if stat else 0
        crashed = done.returncode != 0 or bool(found)
        line = "fuzz %s: %d executions, %d crashes, %.1f s (%d exec/s), %d seeds" % (
            args.name, executions, 1 if crashed else 0, seconds,
            executions / seconds if seconds > 0 else 0, seeds)
        summary = os.environ.get("PEERMATCH_FUZZ_SUMMARY")
        if summary:
            with open(summary, "a") as f:
                f.write("%s\t%d\t%d\t%.1f\t%d\n" % (args.name, executions, 1 if crashed else 0,
                                                    seconds, seeds))
        if crashed:
            # The whole log beside the inputs: a leak report at exit can be
            # longer than what is printed here (its first, direct, leaks
            # are the ones to read).
            log_path = os.path.join(args.artifacts, "last-failure.log")
            with open(log_path, "w") as f:
                f.write(log)
            sys.stdout.write(log[-20000:])
            print("\n(the whole log: %s)" % log_path)
            print("\n%s (exit %d); inputs saved: %s" % (
                line, done.returncode,
                ", ".join(os.path.join(args.artifacts, f) for f in found) or "none"))
            return 1
        if executions == 0:
            sys.stdout.write(log[-5000:])
            print("\n%s: the target ran no input" % line)
            return 1
        if slow:
            line += "; slow inputs saved: " + ", ".join(os.path.join(args.artifacts, f) for f in slow)
        print(line)
        # What the target says of itself at exit (rpc_fuzz and
        # http_router_fuzz: how many pairings went through).
        for own in re.findall(r"^%s: .*$" % re.escape(args.name), log, re.M):
            print("  " + own)
        return 0


if __name__ == "__main__":
    sys.exit(main())
