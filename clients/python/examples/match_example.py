#!/usr/bin/python3
"""Prints the peer cities most likely to have solved a challenge.

    python3 clients/python/examples/match_example.py --k 3 \
        "Since schools closed, many pupils in rural districts have no internet at home"

with the peermatch_client wheel installed (or, in a checkout without it,
PYTHONPATH=build/python:clients/python).
"""

import argparse
import os
import sys

try:
    from peermatch_client import Client, PeermatchError
except ImportError:  # not installed: the checkout's copy, beside this folder
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from peermatch_client import Client, PeermatchError  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("text", help="the challenge, in words")
    parser.add_argument("--server", help="HOST:PORT (default $PEERMATCH_SERVER or 127.0.0.1:50051)")
    parser.add_argument("--token", help="bearer token (default $PEERMATCH_TOKEN)")
    parser.add_argument("--k", type=int, default=5, help="peer cities to show (default 5)")
    args = parser.parse_args()

    try:
        with Client(args.server, token=args.token) as client:
            answer = client.match(args.text, k=args.k)
    except PeermatchError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    if not answer.peers:
        print("no peer city matched")
    for peer in answer.peers:
        print("%2d. %s (%s)  score %.2f" % (peer.rank, peer.city.name, peer.city.country, peer.score))
        for evidence in peer.evidence:
            print("      - %s: %s" % (evidence.case_id, evidence.title))
            print("        shared: %s" % ", ".join(t.term for t in evidence.shared_terms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
