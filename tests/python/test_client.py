"""End-to-end tests of the Python client against a real peermatchd.

They test the client as installed: ctest's python_client (run_installed.py)
installs the wheel from `make python-package` into a fresh virtual
environment and runs this file from there, with $PEERMATCH_PYTHON_VENV
naming it; InstalledPackageTest then checks that the client and its stubs
came from that environment, not from the source tree.

A module-level fixture starts build/bin/peermatchd on a free port with an empty
temporary data directory, a write token and a read token; setUpModule imports
the demo data through Client.import_records, and tearDownModule stops the
server with SIGTERM and checks that it exits 0.

Paths: $PEERMATCH_BIN_DIR (default <repo>/build/bin); $PEERMATCH_PYTHON_STUBS
(default: none, the installed package's own stubs).
Run: cd build && ctest -R python_client --output-on-failure
"""

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from unittest import mock

import grpc

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN_DIR = os.environ.get("PEERMATCH_BIN_DIR") or os.path.join(REPO, "build", "bin")
STUBS = os.environ.get("PEERMATCH_PYTHON_STUBS") or None
VENV = os.environ.get("PEERMATCH_PYTHON_VENV")
CLIENT_DIR = os.path.join(REPO, "clients", "python")
CITIES = os.path.join(REPO, "data", "demo", "cities.jsonl")
CASES = os.path.join(REPO, "data", "demo", "cases.jsonl")
EXAMPLE = os.path.join(CLIENT_DIR, "examples", "match_example.py")

import peermatch_client  # noqa: E402
from peermatch_client import Client, PeermatchError, load_stubs, to_dict  # noqa: E402

WRITE_TOKEN = "write-token-0123456789abcdef"
READ_TOKEN = "read-token-0123456789abcdef"
DEMO_CITIES = 93
DEMO_CASES = 379
QUERY = "Since schools closed, many pupils in rural districts have no internet at home"

_server = {}


def setUpModule():
    stubs = load_stubs(STUBS)
    _server["pb"] = stubs.peermatch_pb2
    _server["model"] = stubs.model_pb2
    data_dir = tempfile.mkdtemp(prefix="peermatch-pytest-")
    _server["data_dir"] = data_dir
    _server["stderr"] = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [os.path.join(BIN_DIR, "peermatchd"), "--data-dir", os.path.join(data_dir, "store"),
         "--listen", "127.0.0.1:0", "--http-listen", "off", "--quiet",
         "--write-token", WRITE_TOKEN, "--read-token", READ_TOKEN],
        stdout=subprocess.PIPE, stderr=_server["stderr"], text=True)
    _server["proc"] = proc
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        line = proc.stdout.readline() if ready else ""
        m = re.match(r"peermatchd: serving peermatch\.v1\.Peermatch on (\S+):(\d+) \(data in ",
                     line)
        if not m:
            _server["stderr"].seek(0)
            raise RuntimeError("peermatchd did not start: stdout %r, stderr %r" % (
                line, _server["stderr"].read()[-2000:]))
        _server["address"] = "%s:%s" % (m.group(1), m.group(2))
        with writer() as client:
            deadline = time.monotonic() + 10
            while client.health() != "SERVING":
                if time.monotonic() > deadline:
                    raise RuntimeError("peermatchd is not SERVING")
                time.sleep(0.1)
            # The demo data, through the client's own import: cities, then cases.
            # (A generous deadline: this is set-up, and the client's default
            # 10 s was missed on a loaded machine; test_deadline tests deadlines.)
            _server["first_import"] = [client.import_records(CITIES, timeout=300),
                                       client.import_records(CASES, timeout=300)]
            settle(client)
    except BaseException:  # tearDownModule does not run when setUpModule fails
        proc.kill()
        proc.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
        raise


def settle(client, quiet_seconds=2.0, limit=300.0):
    """Waits until the server's model version has stopped changing.

    A bulk write makes the server refit its model on a background thread; the
    refit can finish after import_records has returned (~0.4 s later here), and
    answers change with it. The API has no way to wait for it, so the tests
    wait for model_version to be stable before comparing answers across calls.
    """
    start = time.monotonic()
    # First a fitted model at all: the first refit after an import into an
    # empty store may start later than quiet_seconds on a loaded machine.
    while client.stats().model_version == 0:
        if time.monotonic() - start > limit:
            raise RuntimeError("no model was fitted within %.0f s" % limit)
        time.sleep(0.05)
    last_change = time.monotonic()
    version = client.stats().model_version
    while time.monotonic() - last_change < quiet_seconds:
        if time.monotonic() - start > limit:
            raise RuntimeError("the model version keeps changing")
        time.sleep(0.05)
        now = client.stats().model_version
        if now != version:
            version, last_change = now, time.monotonic()


def tearDownModule():
    proc = _server.get("proc")
    try:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
            _server["stderr"].seek(0)
            err = _server["stderr"].read().decode("utf-8", "replace")
            if proc.returncode != 0:
                raise AssertionError("peermatchd exited with %d after SIGTERM\nstdout: %s\n"
                                     "stderr: %s" % (proc.returncode, out, err[-2000:]))
            if "stopped cleanly" not in out:
                raise AssertionError("peermatchd did not report a clean stop: %r" % out)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(_server.get("data_dir", ""), ignore_errors=True)


def writer(**kwargs):
    return Client(_server["address"], token=WRITE_TOKEN, stubs_path=STUBS, **kwargs)


def reader(**kwargs):
    return Client(_server["address"], token=READ_TOKEN, stubs_path=STUBS, **kwargs)


class ClientTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = writer()
        cls.r = reader()

    @classmethod
    def tearDownClass(cls):
        cls.w.close()
        cls.r.close()

    def assertCode(self, code, call, *args, **kwargs):
        with self.assertRaises(PeermatchError) as ctx:
            call(*args, **kwargs)
        self.assertEqual(ctx.exception.code, code, str(ctx.exception))
        self.assertIsNotNone(ctx.exception.rpc_error)
        return ctx.exception


def demo_ids(path, kind):
    import json
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)[kind]["id"] for line in f if line.strip()]


class ImportTest(ClientTestCase):
    def test_first_import_writes_every_demo_record(self):
        cities, cases = _server["first_import"]
        self.assertEqual((cities.cities_written, cities.cases_written, cities.unchanged),
                         (DEMO_CITIES, 0, 0))
        self.assertEqual((cases.cities_written, cases.cases_written, cases.unchanged),
                         (0, DEMO_CASES, 0))
        self.assertEqual(list(cities.errors) + list(cases.errors), [])

    def test_reimport_changes_nothing(self):
        for path, n in ((CITIES, DEMO_CITIES), (CASES, DEMO_CASES)):
            summary = self.w.import_records(path)
            self.assertEqual(to_dict(summary), {"unchanged": n}, path)
        stats = self.r.stats()
        self.assertEqual((stats.cities, stats.cases), (DEMO_CITIES, DEMO_CASES))

    def test_import_accepts_messages_and_dicts(self):
        m = _server["model"]
        city = self.r.get_city("bahir-dar")
        case = self.r.get_case("bahir-dar-covid-pupils-offline")
        records = [city, case, m.ImportRecord(city=city),
                   {"city": to_dict(city)},
                   {"case": dict(to_dict(case), kind="challenge")}]  # a short enum name
        summary = self.w.import_records(iter(records))
        self.assertEqual(to_dict(summary), {"unchanged": 5})

    def test_import_reports_bad_records_and_skips_them(self):
        path = os.path.join(_server["data_dir"], "bad.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            f.write('{"city": {"id": "bahir-dar", "name": "Bahir Dar", "country": "ET", '
                    '"region": "REGION_AFRICA", "population": "350000", '
                    '"languages": ["am", "en"], '
                    '"location": {"latitude": 11.594, "longitude": 37.39}}}\n')
            f.write("\n")  # blank lines are skipped; error indexes stay line numbers
            f.write('{"case": {"id": "py-bad-sdg", "cityId": "bahir-dar", "kind": '
                    '"CASE_KIND_SOLUTION", "title": "t", "description": "d", '
                    '"themes": ["THEME_WORKPLACE"], "sdgs": [4, 18]}}\n')
            f.write('{"case": {"id": "py-no-city", "cityId": "atlantis", "kind": '
                    '"CASE_KIND_SOLUTION", "title": "t", "description": "d", '
                    '"themes": ["THEME_WORKPLACE"]}}\n')
        summary = self.w.import_records(path)
        self.assertEqual(summary.unchanged, 1)
        self.assertEqual(summary.cases_written + summary.cities_written, 0)
        errors = {e.id: e for e in summary.errors}
        self.assertEqual(set(errors), {"py-bad-sdg", "py-no-city"})
        self.assertEqual(errors["py-bad-sdg"].index, 2)
        self.assertEqual(errors["py-bad-sdg"].code, "INVALID_ARGUMENT")
        self.assertIn("sdgs", errors["py-bad-sdg"].message)
        self.assertEqual(errors["py-no-city"].index, 3)
        self.assertEqual(errors["py-no-city"].code, "NOT_FOUND")
        self.assertIn("city_id", errors["py-no-city"].message)
        self.assertCode("NOT_FOUND", self.r.get_case, "py-bad-sdg")

    def test_malformed_input_raises_before_sending(self):
        with self.assertRaises(ValueError):
            self.w.import_records([{"city": {"id": "x", "region": "atlantis"}}])
        with self.assertRaises(ValueError):
            self.w.import_records([{"neither": {}}])

    def test_import_needs_a_write_token(self):
        self.assertCode("PERMISSION_DENIED", self.r.import_records, CITIES)


class ReadTest(ClientTestCase):
    def test_get_city_and_case(self):
        city = self.r.get_city("bahir-dar")
        self.assertEqual((city.name, city.country, city.population), ("Bahir Dar", "ET", 350000))
        self.assertEqual(city.region, _server["model"].REGION_AFRICA)
        case = self.r.get_case("bahir-dar-covid-pupils-offline")
        self.assertEqual(case.city_id, "bahir-dar")
        self.assertEqual(case.kind, _server["model"].CASE_KIND_CHALLENGE)
        self.assertEqual(to_dict(city)["id"], "bahir-dar")

    def test_list_cities_walks_every_page(self):
        ids = [c.id for c in self.r.list_cities(page_size=10)]
        self.assertEqual(len(ids), DEMO_CITIES)
        self.assertEqual(ids, sorted(set(ids)))
        self.assertEqual(set(ids), set(demo_ids(CITIES, "city")))
        self.assertEqual(ids, [c.id for c in self.r.list_cities()])
        self.assertEqual(ids, [c.id for c in self.r.list_cities(page_size=1000)])

    def test_list_cities_pages_are_page_size(self):
        # The raw pages behind list_cities: 9 full pages of 10, then 3.
        pb = _server["pb"]
        stub = load_stubs().peermatch_pb2_grpc.PeermatchStub(self.r._channel)
        sizes, token = [], ""
        while True:
            page = stub.ListCities(pb.ListCitiesRequest(page_size=10, page_token=token),
                                   timeout=10, metadata=self.r._metadata)
            sizes.append(len(page.cities))
            token = page.next_page_token
            if not token:
                break
        self.assertEqual(sizes, [10] * 9 + [3])

    def test_list_cities_by_region(self):
        model = _server["model"]
        africa = list(self.r.list_cities(region="africa", page_size=7))
        self.assertGreater(len(africa), 0)
        self.assertTrue(all(c.region == model.REGION_AFRICA for c in africa))
        by_full_name = [c.id for c in self.r.list_cities(region="REGION_AFRICA")]
        self.assertEqual([c.id for c in africa], by_full_name)
        total = sum(len(list(self.r.list_cities(region=r)))
                    for r in ("africa", "arab_states", "asia_pacific",
                              "europe_north_america", "latin_america_caribbean"))
        self.assertEqual(total, DEMO_CITIES)

    def test_list_cases_filters(self):
        model = _server["model"]
        every = [c.id for c in self.r.list_cases(page_size=50)]
        self.assertEqual(len(every), DEMO_CASES)
        self.assertEqual(set(every), set(demo_ids(CASES, "case")))
        mine = list(self.r.list_cases(city_id="bahir-dar"))
        self.assertGreater(len(mine), 0)
        self.assertTrue(all(c.city_id == "bahir-dar" for c in mine))
        stats = self.r.stats()
        solutions = list(self.r.list_cases(kind="solution", page_size=25))
        self.assertEqual(len(solutions), stats.solutions)
        self.assertTrue(all(c.kind == model.CASE_KIND_SOLUTION for c in solutions))
        tech = list(self.r.list_cases(theme="learning_technologies"))
        self.assertGreater(len(tech), 0)
        self.assertTrue(all(model.THEME_LEARNING_TECHNOLOGIES in c.themes for c in tech))

    def test_stats_and_health(self):
        stats = self.r.stats()
        self.assertEqual((stats.cities, stats.cases), (DEMO_CITIES, DEMO_CASES))
        self.assertEqual(stats.challenges + stats.solutions, DEMO_CASES)
        self.assertGreater(stats.model_version, 0)
        self.assertEqual(self.r.health(), "SERVING")


class FeedbackTest(ClientTestCase):
    """RecordFeedback (issue 14): validated, needs a write token, reported in stats."""

    def test_feedback_is_checked_and_stored(self):
        solution = "kashan-covid-device-lending"
        self.assertCode("PERMISSION_DENIED", self.r.record_feedback, solution, True,
                        query_text=QUERY)
        before = self.r.stats().fusion.judgements
        err = self.assertCode("NOT_FOUND", self.w.record_feedback, "atlantis-radio", True,
                              query_text=QUERY)
        self.assertIn("solution_case_id", str(err))
        self.assertEqual(self.r.stats().fusion.judgements, before, "nothing written")
        resp = self.w.record_feedback(solution, False, query_text=QUERY, city_id="kashan")
        self.assertEqual(resp.judgement.solution_case_id, solution)
        self.assertFalse(resp.judgement.relevant)
        stats = self.r.stats()
        self.assertEqual(stats.fusion.judgements, before + 1)
        self.assertFalse(stats.fusion.learned)
        self.assertIn("too few judgements", stats.fusion.reason)


class MatchTest(ClientTestCase):
    def check_answer(self, answer, k):
        self.assertGreater(len(answer.peers), 0)
        self.assertLessEqual(len(answer.peers), k)
        ids = [p.city.id for p in answer.peers]
        self.assertEqual(len(ids), len(set(ids)), "one entry per city")
        scores = [p.score for p in answer.peers]
        self.assertEqual(scores, sorted(scores, reverse=True))
        for peer in answer.peers:
            self.assertTrue(peer.city.name)
            self.assertGreater(len(peer.evidence), 0)
            self.assertAlmostEqual(peer.score, peer.evidence[0].score, places=6)
            for e in peer.evidence:
                case = self.r.get_case(e.case_id)
                self.assertEqual(case.city_id, peer.city.id)
                self.assertEqual(case.kind, _server["model"].CASE_KIND_SOLUTION)
                self.assertEqual(case.title, e.title)

    def test_match_by_text(self):
        answer = self.r.match(QUERY, k=5)
        self.check_answer(answer, 5)
        self.assertEqual([p.rank for p in answer.peers], list(range(1, len(answer.peers) + 1)))
        top = answer.peers[0].evidence[0]
        self.assertGreater(len(top.shared_terms), 0)
        terms = [t.term for t in top.shared_terms]
        self.assertTrue(all(t.lower() in QUERY.lower() for t in terms), terms)
        self.assertGreater(answer.model_version, 0)
        again = self.r.match(QUERY, k=5)
        # The same model answers the same query the same way (no writes since settle()).
        self.assertEqual(again.model_version, answer.model_version)
        self.assertEqual(to_dict(again), to_dict(answer))

    def test_match_pages(self):
        first = self.r.match(QUERY, k=4)
        self.assertTrue(first.next_page_token)
        second = self.r.match(QUERY, k=4, page_token=first.next_page_token)
        self.assertEqual([p.rank for p in second.peers], [5, 6, 7, 8])
        both = [p.city.id for p in first.peers] + [p.city.id for p in second.peers]
        self.assertEqual(len(set(both)), 8)
        self.assertEqual(both, [p.city.id for p in self.r.match(QUERY, k=8).peers])

    def test_match_by_case_excludes_the_asking_city(self):
        answer = self.r.match(case_id="bahir-dar-covid-pupils-offline", k=10)
        self.check_answer(answer, 10)
        self.assertNotIn("bahir-dar", [p.city.id for p in answer.peers])

    def test_asking_city_is_never_its_own_peer(self):
        top = self.r.match(QUERY, k=1).peers[0].city.id
        answer = self.r.match(QUERY, k=10, asking_city_id=top)
        self.check_answer(answer, 10)
        self.assertNotIn(top, [p.city.id for p in answer.peers])

    def test_filters(self):
        model = _server["model"]
        africa = self.r.match(QUERY, k=10, filters={"regions": ["africa"]})
        self.check_answer(africa, 10)
        self.assertTrue(all(p.city.region == model.REGION_AFRICA for p in africa.peers))

        unfiltered = self.r.match(QUERY, k=5)
        countries = sorted({p.city.country for p in unfiltered.peers})
        excluded = self.r.match(QUERY, k=10, filters={"exclude_countries": countries})
        self.check_answer(excluded, 10)
        self.assertFalse({p.city.country for p in excluded.peers} & set(countries))

        filters = _server["pb"].Filters(regions=[model.REGION_LATIN_AMERICA_CARIBBEAN])
        latin = self.r.match(QUERY, k=10, filters=filters)
        self.assertTrue(all(p.city.region == model.REGION_LATIN_AMERICA_CARIBBEAN
                            for p in latin.peers))

    def test_max_per_country_and_evidence_per_city(self):
        answer = self.r.match(QUERY, k=15, max_per_country=1, evidence_per_city=1)
        self.check_answer(answer, 15)
        countries = [p.city.country for p in answer.peers]
        self.assertEqual(len(countries), len(set(countries)))
        self.assertTrue(all(len(p.evidence) == 1 for p in answer.peers))

    def test_structure_scores_with_themes(self):
        answer = self.r.match(QUERY, k=3, themes=["learning_technologies"], sdgs=[4],
                              target_groups=["students"])
        self.check_answer(answer, 3)
        self.assertGreater(answer.peers[0].parts.structure, 0)

    def test_similar(self):
        model = _server["model"]
        answer = self.r.similar(case_id="bahir-dar-covid-pupils-offline", k=5, kind="solution")
        cases = [getattr(m, "case") for m in answer.cases]
        self.assertEqual(len(cases), 5)
        self.assertTrue(all(c.kind == model.CASE_KIND_SOLUTION for c in cases))
        self.assertNotIn("bahir-dar-covid-pupils-offline", [c.id for c in cases])
        scores = [m.score for m in answer.cases]
        self.assertEqual(scores, sorted(scores, reverse=True))
        by_text = self.r.similar("family literacy programmes for parents", k=3)
        self.assertEqual(len(by_text.cases), 3)
        self.assertGreater(len(by_text.cases[0].shared_terms), 0)
        self.assertEqual([m.rank for m in by_text.cases], [1, 2, 3])


class ErrorTest(ClientTestCase):
    def test_invalid_argument_names_the_field(self):
        e = self.assertCode("INVALID_ARGUMENT", self.r.match, QUERY, k=500)
        self.assertRegex(e.message, r"\bk\b")
        e = self.assertCode("INVALID_ARGUMENT", self.r.match, QUERY, evidence_per_city=11)
        self.assertIn("evidence_per_city", e.message)
        e = self.assertCode("INVALID_ARGUMENT", self.r.match, QUERY, filters={"sdgs": [18]})
        self.assertIn("sdgs", e.message)
        e = self.assertCode("INVALID_ARGUMENT", self.r.match)
        self.assertIn("text", e.message)
        e = self.assertCode("INVALID_ARGUMENT", lambda: list(self.r.list_cities(page_size=5000)))
        self.assertIn("page_size", e.message)
        e = self.assertCode("INVALID_ARGUMENT", self.r.match, QUERY, page_token="garbage")
        self.assertIn("page_token", e.message)
        e = self.assertCode("INVALID_ARGUMENT", self.w.put_city,
                            {"id": "Not A Slug", "name": "x", "country": "FR", "region": "europe_north_america"})
        self.assertIn("id", e.message)

    def test_client_side_argument_errors(self):
        with self.assertRaises(ValueError):
            self.r.match(QUERY, case_id="bahir-dar-covid-pupils-offline")
        with self.assertRaises(ValueError):
            self.r.match(QUERY, filters={"regions": ["atlantis"]})
        with self.assertRaises(ValueError):
            list(self.r.list_cities(region="atlantis"))
        with self.assertRaises(TypeError):
            self.w.put_city(42)

    def test_not_found(self):
        self.assertCode("NOT_FOUND", self.r.get_city, "atlantis")
        self.assertCode("NOT_FOUND", self.r.get_case, "no-such-case")
        self.assertCode("NOT_FOUND", self.r.match, case_id="no-such-case")
        self.assertCode("NOT_FOUND", self.w.delete_case, "no-such-case")

    def test_unauthenticated(self):
        with Client(_server["address"], token="", stubs_path=STUBS) as anonymous:
            self.assertCode("UNAUTHENTICATED", anonymous.get_city, "bahir-dar")
            self.assertCode("UNAUTHENTICATED", anonymous.match, QUERY)
        with Client(_server["address"], token="not-a-known-token-at-all", stubs_path=STUBS) as bad:
            self.assertCode("UNAUTHENTICATED", bad.stats)

    def test_read_token_cannot_write(self):
        city = {"id": "py-readonly", "name": "Read Only", "country": "FR",
                "region": "europe_north_america"}
        self.assertCode("PERMISSION_DENIED", self.r.put_city, city)
        self.assertCode("NOT_FOUND", self.r.get_city, "py-readonly")
        self.assertCode("PERMISSION_DENIED", self.r.delete_case, "bahir-dar-covid-pupils-offline")
        self.assertCode("PERMISSION_DENIED", self.r.delete_city, "bahir-dar", cascade=True)
        self.r.get_case("bahir-dar-covid-pupils-offline")

    def test_delete_city_with_cases_fails_and_writes_nothing(self):
        before = [c.id for c in self.r.list_cases(city_id="bahir-dar")]
        self.assertGreater(len(before), 0)
        e = self.assertCode("FAILED_PRECONDITION", self.w.delete_city, "bahir-dar")
        self.assertTrue(e.message)
        self.r.get_city("bahir-dar")
        self.assertEqual([c.id for c in self.r.list_cases(city_id="bahir-dar")], before)

    def test_deadline(self):
        # Every call carries a deadline: the per-call one, else the client's.
        # (An already-expired one: a merely tiny one such as 1e-6 s races the
        # server's answer, which gRPC lets win.)
        self.assertCode("DEADLINE_EXCEEDED", self.r.match, QUERY, timeout=-1)
        with reader(timeout=-1) as hasty:
            self.assertCode("DEADLINE_EXCEEDED", hasty.stats)
            self.assertEqual(hasty.stats(timeout=10).cities, DEMO_CITIES)

    def test_closed_client(self):
        client = reader()
        with client:
            self.assertEqual(client.health(), "SERVING")
        with self.assertRaises(Exception):
            client.stats()


class WriteTest(ClientTestCase):
    CITY = {"id": "py-testville", "name": "Testville", "country": "NZ", "region": "asia_pacific",
            "population": 1234, "languages": ["en", "mi"], "joinedYear": 2024}
    CASE = {"id": "py-testville-kelp-school", "city_id": "py-testville", "kind": "solution",
            "title": "Kelp farming apprenticeships for school leavers",
            "description": "Testville runs zyxwvut kelp farming apprenticeships with the harbour "
                           "cooperative so that school leavers learn aquaculture on the water.",
            "themes": ["workplace"], "sdgs": [4, 8, 14], "targetGroups": ["school leavers"],
            "year": 2023}

    def tearDown(self):
        try:
            self.w.delete_city("py-testville", cascade=True)
        except PeermatchError:
            pass

    def test_put_get_match_delete(self):
        model = _server["model"]
        self.assertTrue(self.w.put_city(self.CITY))
        self.assertFalse(self.w.put_city(self.CITY))
        city = self.r.get_city("py-testville")
        self.assertEqual((city.name, city.region, city.population, list(city.languages)),
                         ("Testville", model.REGION_ASIA_PACIFIC, 1234, ["en", "mi"]))
        city.population = 1300
        self.assertTrue(self.w.put_city(city))
        self.assertEqual(self.r.get_city("py-testville").population, 1300)

        self.assertTrue(self.w.put_case(self.CASE))
        self.assertFalse(self.w.put_case(self.CASE))
        case = self.r.get_case("py-testville-kelp-school")
        self.assertEqual(list(case.themes), [model.THEME_WORKPLACE])
        self.assertEqual(list(case.sdgs), [4, 8, 14])

        # Matchable as soon as the put returns.
        answer = self.r.match("zyxwvut kelp apprenticeships", k=3)
        self.assertEqual(answer.peers[0].city.id, "py-testville")
        self.assertEqual(answer.peers[0].evidence[0].case_id, "py-testville-kelp-school")
        self.assertIn("kelp", [t.term for t in answer.peers[0].evidence[0].shared_terms])

        self.assertCode("FAILED_PRECONDITION", self.w.delete_city, "py-testville")
        self.assertEqual(self.w.delete_city("py-testville", cascade=True), 1)
        self.assertCode("NOT_FOUND", self.r.get_city, "py-testville")
        self.assertCode("NOT_FOUND", self.r.get_case, "py-testville-kelp-school")
        answer = self.r.match("zyxwvut kelp apprenticeships", k=3)
        self.assertNotIn("py-testville", [p.city.id for p in answer.peers])
        stats = self.r.stats()
        self.assertEqual((stats.cities, stats.cases), (DEMO_CITIES, DEMO_CASES))

    def test_delete_case_then_city(self):
        m = _server["model"]
        city = m.City(id="py-testville", name="Testville", country="NZ",
                      region=m.REGION_ASIA_PACIFIC)
        self.assertTrue(self.w.put_city(city))
        case = m.Case(id="py-testville-challenge", city_id="py-testville",
                      kind=m.CASE_KIND_CHALLENGE, title="Too few evening classes",
                      description="Adults who work shifts cannot attend daytime courses.",
                      themes=[m.THEME_WORKPLACE])
        self.assertTrue(self.w.put_case(case))
        self.assertEqual([c.id for c in self.r.list_cases(city_id="py-testville")],
                         ["py-testville-challenge"])
        self.w.delete_case("py-testville-challenge")
        self.assertCode("NOT_FOUND", self.r.get_case, "py-testville-challenge")
        self.assertEqual(self.w.delete_city("py-testville"), 0)
        self.assertCode("NOT_FOUND", self.r.get_city, "py-testville")

    def test_put_case_of_unknown_city_is_refused(self):
        # An unknown referenced id is NOT_FOUND (the proto's convention), naming the field.
        e = self.assertCode("NOT_FOUND", self.w.put_case, dict(self.CASE, city_id="atlantis"))
        self.assertIn("city_id", e.message)
        self.assertCode("NOT_FOUND", self.r.get_case, self.CASE["id"])

    def test_update_city_and_case_change_only_the_named_fields(self):
        self.w.put_city(self.CITY)
        self.w.put_case(self.CASE)
        # The mask from the dict's keys; None clears.
        city = self.w.update_city({"id": "py-testville", "population": 1500, "joinedYear": None})
        self.assertEqual((city.name, city.population, city.joined_year, list(city.languages)),
                         ("Testville", 1500, 0, ["en", "mi"]))
        # An explicit mask: the other values given are ignored.
        case = self.w.update_case({"id": "py-testville-kelp-school", "title": "Kelp school",
                                   "year": 1999}, update_mask="title")
        self.assertEqual((case.title, case.year), ("Kelp school", 2023))
        self.assertEqual(self.r.get_case("py-testville-kelp-school").title, "Kelp school")
        with self.assertRaises(ValueError):  # the client knows City's fields itself
            self.w.update_city({"id": "py-testville", "mayor": "x"})
        e = self.assertCode("INVALID_ARGUMENT", self.w.update_city,
                            {"id": "py-testville", "name": "x"}, update_mask=["name", "mayor"])
        self.assertIn('"mayor" is not a field of City; updatable fields: name', e.message)
        self.assertCode("NOT_FOUND", self.w.update_city, {"id": "py-nowhere", "population": 1})
        self.assertCode("PERMISSION_DENIED", self.r.update_city,
                        {"id": "py-testville", "population": 1})
        self.assertEqual(self.r.get_city("py-testville").population, 1500)

    def test_min_score_and_empty_reason(self):
        strong = self.r.match(QUERY, k=20, min_score=2.0)
        self.assertTrue(strong.peers)
        self.assertTrue(all(p.score >= 2.0 for p in strong.peers))
        none = self.r.similar(QUERY, k=5, min_score=1000)
        self.assertEqual(len(none.cases), 0)
        self.assertIn("a lower min_score", none.empty_reason)


class EnvironmentTest(ClientTestCase):
    def test_server_and_token_from_the_environment(self):
        env = {"PEERMATCH_SERVER": _server["address"], "PEERMATCH_TOKEN": READ_TOKEN}
        with mock.patch.dict(os.environ, env):
            with Client(stubs_path=STUBS) as client:
                self.assertEqual(client.server, _server["address"])
                self.assertEqual(client.get_city("bahir-dar").id, "bahir-dar")
                self.assertCode("PERMISSION_DENIED", client.delete_case, "x")


class InstalledPackageTest(unittest.TestCase):
    """The client under test is the installed wheel, stubs included."""

    def setUp(self):
        if not VENV:
            self.skipTest("not run from an installed wheel (ctest python_client does that)")

    def assertInVenv(self, path):
        venv = os.path.realpath(VENV)
        self.assertTrue(os.path.realpath(path).startswith(venv + os.sep),
                        "%s is not inside %s" % (path, venv))

    def test_client_and_stubs_come_from_the_virtual_environment(self):
        self.assertEqual(os.path.realpath(sys.prefix), os.path.realpath(VENV))
        self.assertInVenv(peermatch_client.__file__)
        stubs = load_stubs()
        for module in (stubs.model_pb2, stubs.peermatch_pb2, stubs.peermatch_pb2_grpc):
            self.assertInVenv(module.__file__)
        self.assertFalse(os.path.realpath(peermatch_client.__file__).startswith(
            os.path.realpath(CLIENT_DIR) + os.sep))

    def test_installed_metadata_matches_the_package(self):
        from importlib import metadata
        self.assertEqual(metadata.version("peermatch-client"), peermatch_client.__version__)
        files = {str(f) for f in metadata.files("peermatch-client")}
        self.assertIn("peermatch/v1/peermatch_pb2_grpc.py", files)
        self.assertIn("peermatch/v1/model_pb2.py", files)
        self.assertIn("peermatch_client/client.py", files)
        # Each requirement ("grpcio>=1.51") is met by what is installed (Debian's).
        requires = metadata.requires("peermatch-client")
        self.assertEqual(sorted(re.split(r"[<>=!~ (]", r)[0] for r in requires),
                         ["grpcio", "protobuf"])
        for requirement in requires:
            name, minimum = re.fullmatch(r"([\w-]+) ?\(?>=([\d.]+)\)?", requirement).groups()
            installed = metadata.version(name)
            self.assertGreaterEqual(tuple(int(x) for x in re.findall(r"\d+", installed)[:3]),
                                    tuple(int(x) for x in minimum.split(".")),
                                    "%s %s does not meet %s" % (name, installed, requirement))

    def test_every_service_method_has_a_stub(self):
        # The wheel carries the stubs of the proto in the tree, whatever its RPCs.
        stubs = load_stubs()
        service = stubs.peermatch_pb2.DESCRIPTOR.services_by_name["Peermatch"]
        stub = stubs.peermatch_pb2_grpc.PeermatchStub(grpc.insecure_channel("127.0.0.1:1"))
        for method in service.methods:
            self.assertTrue(callable(getattr(stub, method.name, None)), method.name)


class ExampleTest(unittest.TestCase):
    def run_example(self, *args, **env):
        # The example as a user runs it, with the interpreter that has the
        # client installed (the venv's, under ctest) and nothing on PYTHONPATH.
        full_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        if STUBS:
            full_env["PYTHONPATH"] = os.pathsep.join([STUBS, CLIENT_DIR])
        full_env.update(env)
        return subprocess.run([sys.executable, EXAMPLE] + list(args), env=full_env,
                              capture_output=True, text=True, timeout=60)

    def test_example_prints_peers_with_evidence(self):
        done = self.run_example("--server", _server["address"], "--token", READ_TOKEN,
                                "--k", "3", QUERY)
        self.assertEqual(done.returncode, 0, done.stderr)
        lines = done.stdout.splitlines()
        peers = [l for l in lines if re.match(r"\s*\d+\. .+ \([A-Z]{2}\)  score -?\d", l)]
        self.assertEqual(len(peers), 3, done.stdout)
        self.assertTrue(peers[0].lstrip().startswith("1. "))
        self.assertTrue(any(l.strip().startswith("shared: ") and len(l.strip()) > 8
                            for l in lines), done.stdout)
        top = Client(_server["address"], token=READ_TOKEN, stubs_path=STUBS).match(QUERY, k=1)
        self.assertIn(top.peers[0].city.name, peers[0])

    def test_example_reports_errors(self):
        done = self.run_example("--server", _server["address"], "--token", "", QUERY,
                                PEERMATCH_TOKEN="")
        self.assertEqual(done.returncode, 1)
        self.assertIn("UNAUTHENTICATED", done.stderr)


if __name__ == "__main__":
    unittest.main()


class PairTest(ClientTestCase):
    def test_pairing_respects_limits_and_explains_every_pair(self):
        seen = []
        pairs, summary = self.r.pair(k=3, capacity=3, exclude_same_country=True,
                                     progress=seen.append)
        self.assertGreater(len(pairs), 0)
        self.assertEqual(summary.pairs, len(pairs))
        countries = {c.id: c.country for c in self.r.list_cities()}
        asks, serves = {}, {}
        for p in pairs:
            asks[p.asking_city_id] = asks.get(p.asking_city_id, 0) + 1
            serves[p.peer_city_id] = serves.get(p.peer_city_id, 0) + 1
            self.assertNotEqual(countries[p.asking_city_id], countries[p.peer_city_id])
            self.assertTrue(p.challenge_id.startswith(p.asking_city_id))
            self.assertEqual(self.r.get_case(p.solution_id).city_id, p.peer_city_id)
        self.assertLessEqual(max(asks.values()), 3)
        self.assertLessEqual(max(serves.values()), 3)
        self.assertAlmostEqual(summary.total_score, sum(p.score for p in pairs), places=3)
        self.assertEqual(summary.matched_cities + len(summary.unmatched), summary.asking_cities)
        # Issue 12: the cities that got some peers but fewer than 3, each
        # with the server's count and reason.
        fewer = {u.city_id: u.peers for u in summary.fewer_peers}
        self.assertEqual(fewer, {c: n for c, n in asks.items() if n < 3})
        self.assertTrue(all(u.reason for u in summary.fewer_peers))
        again, again_summary = self.r.pair(k=3, capacity=3, exclude_same_country=True)
        self.assertEqual(summary.model_version, again_summary.model_version)
        self.assertEqual([(p.asking_city_id, p.peer_city_id) for p in pairs],
                         [(p.asking_city_id, p.peer_city_id) for p in again])

    def test_bad_pairing_request_names_the_field(self):
        error = self.assertCode("INVALID_ARGUMENT", self.r.pair, k=50)
        self.assertIn("k", error.message)
        self.assertCode("NOT_FOUND", self.r.pair, keep=[("fermo", "atlantis")])


class RoundTest(ClientTestCase):
    def test_round_create_decide_rematch_close(self):
        r = self.w.create_round("python cohort", k=2, capacity=2, exclude_same_country=True)
        self.assertEqual(r.id, "python-cohort")
        self.assertGreater(len(r.pairs), 0)
        first, second = r.pairs[0].pair, r.pairs[1].pair
        d = self.w.decline_pair(r.id, first.asking_city_id, first.peer_city_id,
                                reason="not-relevant", comment="other topic")
        self.assertTrue(d.changed)
        self.assertEqual(d.pair.reason, _server["pb"].DECLINE_REASON_NOT_RELEVANT)
        again = self.w.decline_pair(r.id, first.asking_city_id, first.peer_city_id,
                                    reason="not-relevant", comment="other topic")
        self.assertFalse(again.changed)
        self.w.accept_pair(r.id, second.asking_city_id, second.peer_city_id)
        rematched = self.w.rematch_round(r.id)
        declined = (first.asking_city_id, first.peer_city_id)
        self.assertNotIn(declined, [(p.asking_city_id, p.peer_city_id) for p in rematched.added])
        stored = self.r.get_round(r.id)
        self.assertEqual(stored.rematches, 1)
        self.assertEqual((stored.accepted, stored.declined), (1, 1))
        self.assertIn(r.id, [x.id for x in self.r.list_rounds()])
        self.assertCode("PERMISSION_DENIED", self.r.accept_pair, r.id, second.asking_city_id,
                        second.peer_city_id)
        self.assertEqual(self.w.close_round(r.id).state, _server["pb"].ROUND_STATE_CLOSED)
        error = self.assertCode("FAILED_PRECONDITION", self.w.accept_pair, r.id,
                                first.asking_city_id, first.peer_city_id)
        self.assertIn("round_id", error.message)
        error = self.assertCode("NOT_FOUND", self.r.get_round, "atlantis")
        self.assertIn("round_id", error.message)
