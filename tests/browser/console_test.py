#!/usr/bin/python3
"""The staff console in a real headless browser against a real peermatchd.

peermatchd serves the demo data on loopback with a write and a read-only
token; Chromium loads the console from it and signs in. Each test drives one
page as a person would and checks what the page shows; each page's
screenshot is written to --screenshots (the build folder).

Usage: console_test.py --source-dir DIR --bin-dir DIR --screenshots DIR
"""

import argparse
import json
import os
import sys
import unittest
import urllib.parse

from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import console_env  # noqa: E402

ARGS = None
DAEMON = None
DRIVER = None
XSS_TITLE = "<img src=x onerror=alert(1)>"
XSS_ID = "fermo-xss-title-test"


def setUpModule():
    global DAEMON, DRIVER
    DAEMON = console_env.Daemon(ARGS.source_dir, ARGS.bin_dir)
    DRIVER = console_env.chrome()
    DRIVER.set_page_load_timeout(20)


def tearDownModule():
    if DRIVER is not None:
        DRIVER.quit()
    if DAEMON is not None:
        DAEMON.stop()


def demo_cities():
    with open(os.path.join(ARGS.source_dir, "data/demo/cities.jsonl"), encoding="utf-8") as f:
        return [json.loads(line)["city"] for line in f if line.strip()]


class ConsoleTest(unittest.TestCase):
    def wait(self, condition, seconds=20):
        return WebDriverWait(DRIVER, seconds).until(condition)

    def find(self, css):
        return self.wait(EC.presence_of_element_located((By.CSS_SELECTOR, css)))

    def sign_in(self, token):
        DRIVER.get_log("browser")  # drops what earlier tests left
        DRIVER.get(DAEMON.url + "/")
        DRIVER.execute_script("sessionStorage.clear()")
        DRIVER.get(DAEMON.url + "/")
        field = self.find("#token")
        field.send_keys(token)
        DRIVER.find_element(By.CSS_SELECTOR, "#sign-in button").click()
        self.wait(lambda d: d.find_element(By.ID, "access").get_attribute("data-access") in ("read", "write"))

    def go(self, hash_route, ready_css):
        """Opens a page of the console and waits until it is drawn."""
        DRIVER.execute_script("""
          document.body.removeAttribute('data-routed');
          if (location.hash === arguments[0]) window.dispatchEvent(new HashChangeEvent('hashchange'));
          else location.hash = arguments[0];""", hash_route)
        self.wait(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-routed") == hash_route)
        return self.find(ready_css)

    def screenshot(self, name):
        """The whole page (up to 3,000 pixels high) as ARGS.screenshots/NAME.png."""
        os.makedirs(ARGS.screenshots, exist_ok=True)
        height = DRIVER.execute_script("return document.documentElement.scrollHeight")
        DRIVER.set_window_size(1280, max(1000, min(height, 3000)))
        try:
            DRIVER.save_screenshot(os.path.join(ARGS.screenshots, name + ".png"))
        finally:
            DRIVER.set_window_size(1280, 1000)

    def assert_no_csp_violation(self):
        log = DRIVER.get_log("browser")
        violations = [e["message"] for e in log if "Content Security Policy" in e["message"]]
        self.assertEqual(violations, [])
        errors = [e["message"] for e in log if e["level"] == "SEVERE"
                  and "/console/" in e["message"]]
        self.assertEqual(errors, [], "the console's script reported errors")

    def assert_no_alert(self):
        with self.assertRaises(NoAlertPresentException):
            DRIVER.switch_to.alert.text  # noqa: B018

    def test_page_headers_and_first_load_size(self):
        status, headers, page = DAEMON.request("GET", "/", token=None)
        self.assertEqual(status, 200)
        csp = headers["Content-Security-Policy"]
        self.assertIn("script-src 'self'", csp)
        self.assertIn("default-src 'none'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertNotIn("unsafe-eval", csp)
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")
        page = page.decode() if isinstance(page, bytes) else page
        self.assertNotIn("<script>", page, "no inline script")
        sizes = {"/": len(page.encode())}
        for asset in ("/console/app.js", "/console/app.css"):
            status, headers, body = DAEMON.request("GET", asset, token=None)
            self.assertEqual(status, 200, asset)
            self.assertIn("script-src 'self'", headers["Content-Security-Policy"])
            sizes[asset] = len(body if isinstance(body, bytes) else json.dumps(body).encode())
        print(f"first-load assets: {sizes}, total {sum(sizes.values())} bytes", file=sys.stderr)
        self.assertLess(sum(sizes.values()), 1 << 20)

    def test_map_and_table_list_every_demo_city(self):
        self.sign_in(console_env.WRITE_TOKEN)
        self.assertIn("write token", DRIVER.find_element(By.ID, "access").text)
        self.go("#/cities", "#cities-table tbody tr")
        cities = demo_cities()
        rows = DRIVER.find_elements(By.CSS_SELECTOR, "#cities-table tbody tr")
        self.assertEqual(sorted(r.get_attribute("data-city") for r in rows),
                         sorted(c["id"] for c in cities))
        table_text = DRIVER.find_element(By.ID, "cities-table").text
        for c in cities:
            self.assertIn(c["name"], table_text)
        dots = DRIVER.find_elements(By.CSS_SELECTOR, "svg.map .city-dot")
        self.assertEqual(sorted(d.get_attribute("data-city") for d in dots),
                         sorted(c["id"] for c in cities))
        # Dots are placed by their coordinates: Edmonton is west of Beijing,
        # Durban south of Bahir Dar.
        pos = {d.get_attribute("data-city"): (float(d.get_attribute("cx")), float(d.get_attribute("cy")))
               for d in dots}
        self.assertLess(pos["edmonton"][0], pos["beijing"][0])
        self.assertGreater(pos["durban"][1], pos["bahir-dar"][1])
        self.screenshot("cities")
        # The filters narrow the table.
        Select(DRIVER.find_element(By.ID, "city-region")).select_by_value("REGION_AFRICA")
        africa = [c["id"] for c in cities if c["region"] == "REGION_AFRICA"]
        rows = DRIVER.find_elements(By.CSS_SELECTOR, "#cities-table tbody tr")
        self.assertEqual(sorted(r.get_attribute("data-city") for r in rows), sorted(africa))
        DRIVER.find_element(By.ID, "city-search").send_keys("zérék")
        rows = DRIVER.find_elements(By.CSS_SELECTOR, "#cities-table tbody tr")
        self.assertEqual([r.get_attribute("data-city") for r in rows], ["nzerekore"])
        # A city's page lists its challenges and solutions.
        self.go("#/city/wuhan", "#city-name")
        self.assertIn("Wuhan", DRIVER.find_element(By.ID, "city-name").text)
        self.assertTrue(DRIVER.find_elements(By.CSS_SELECTOR, ".case-list a[href='#/case/wuhan-covid-air-classroom']"))
        self.screenshot("city")
        self.assert_no_csp_violation()

    def test_spanish_challenge_shows_peers_with_evidence(self):
        self.sign_in(console_env.READ_TOKEN)
        self.go("#/match", "#match-form")
        DRIVER.find_element(By.ID, "match-text").send_keys(
            "Muchos estudiantes abandonaron la escuela durante la pandemia y no regresaron a clase; "
            "los adolescentes empezaron a trabajar")
        Select(DRIVER.find_element(By.ID, "match-language")).select_by_value("es")
        DRIVER.find_element(By.ID, "match-run").click()
        peer = self.find("#peers li.peer")
        peers = DRIVER.find_elements(By.CSS_SELECTOR, "#peers li.peer")
        self.assertGreaterEqual(len(peers), 1)
        evidence = peer.find_elements(By.CSS_SELECTOR, ".evidence")
        self.assertGreaterEqual(len(evidence), 1)
        self.assertTrue(evidence[0].find_elements(By.CSS_SELECTOR, "h4 a[href^='#/case/']"))
        # Score parts as bars, and shared words marked in both texts.
        self.assertEqual(len(peer.find_elements(By.CSS_SELECTOR, ".parts .bar-row")), 4)
        marked_query = [m.text for m in DRIVER.find_elements(By.CSS_SELECTOR, "#query-text mark")]
        self.assertTrue(marked_query, "shared words are marked in the challenge")
        marked_solution = evidence[0].find_elements(By.CSS_SELECTOR, ".solution-text mark")
        self.assertTrue(marked_solution, "shared words are marked in the solution")
        self.assertIn("mexico-city", [p.get_attribute("data-city") for p in peers])
        self.assertIn("Read as Spanish (es)", DRIVER.find_element(By.ID, "query-language").text)
        # Words matched through a translation are marked in both texts: the
        # Spanish word in the challenge, its English in an English solution
        # (the region's cities write in English).
        Select(DRIVER.find_element(By.ID, "match-region")).select_by_value("REGION_EUROPE_NORTH_AMERICA")
        DRIVER.find_element(By.ID, "match-run").click()
        self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#peers li.peer") and "mexico-city" not in
                  [p.get_attribute("data-city") for p in d.find_elements(By.CSS_SELECTOR, "#peers li.peer")])
        translated = DRIVER.execute_script("""
          return [...document.querySelectorAll('#peers .evidence')]
            .filter(e => e.querySelector('.translations'))
            .map(e => ({pairs: [...e.querySelectorAll('.translations mark')].map(m => m.textContent.toLowerCase()),
                        marked: [...e.querySelectorAll('.solution-text mark.translated')].map(m => m.textContent.toLowerCase())}));""")
        self.assertTrue(translated, "some evidence matched through translations")
        sources = {w for t in translated for w in t["pairs"][0::2]}
        targets = {w for t in translated for w in t["pairs"][1::2]}
        marked = {w for t in translated for w in t["marked"]}
        self.assertTrue(marked, "translated words marked in a solution")
        self.assertTrue(all(any(w[:4] == x[:4] for x in targets) for w in marked), (marked, targets))
        query_marks = {m.text.lower() for m in DRIVER.find_elements(By.CSS_SELECTOR, "#query-text mark.translated")}
        self.assertTrue(query_marks & sources, (query_marks, sources))
        self.assertIn("escuela", sources)
        # A read-only token gets no feedback buttons.
        self.assertEqual(DRIVER.find_elements(By.CSS_SELECTOR, ".feedback button"), [])
        self.screenshot("match")
        self.assert_no_csp_violation()

    def test_pairing_shows_progress_and_results(self):
        self.sign_in(console_env.READ_TOKEN)
        self.go("#/pairing", "#pair-form")
        # Records each state the progress element goes through.
        DRIVER.execute_script("""
          window.__states = [];
          const el = document.getElementById('pair-progress');
          new MutationObserver(() => window.__states.push(el.getAttribute('data-state')))
            .observe(el, {attributes: true, attributeFilter: ['data-state']});""")
        DRIVER.find_element(By.ID, "pair-run").click()
        self.wait(lambda d: d.find_element(By.ID, "pair-progress").get_attribute("data-state") == "done", 60)
        self.assertEqual(DRIVER.execute_script("return window.__states"), ["running", "done"])
        self.assertIn("candidate pairs", DRIVER.find_element(By.ID, "pair-stage").text)
        # Live progress: progress messages were shown, the first of them from
        # an earlier network read than the result's (a gathered answer
        # arrives in one piece, with no progress messages at all).
        progress = DRIVER.find_element(By.ID, "pair-progress")
        self.assertGreaterEqual(int(progress.get_attribute("data-updates")), 1)
        self.assertLess(int(progress.get_attribute("data-first-progress-read")),
                        int(progress.get_attribute("data-result-read")))
        # Every row's cells in one call (a call per cell takes seconds).
        rows = DRIVER.execute_script("""
          return [...document.querySelectorAll('#pairs-table tbody tr')]
            .map(tr => [...tr.querySelectorAll('td')].map(td => td.textContent));""")
        self.assertGreater(len(rows), 10)
        arcs = DRIVER.find_elements(By.CSS_SELECTOR, "#pair-map path.arc")
        self.assertEqual(len(arcs), len(rows))
        edges = DRIVER.find_elements(By.CSS_SELECTOR, "#pair-graph line.edge")
        self.assertEqual(len(edges), len(rows))
        # Names, countries and strength labels; same-country pairs are excluded by default.
        for asking, peer, score, label, *_ in rows:
            self.assertRegex(asking, r"\([A-Z]{2}\)$")
            self.assertRegex(peer, r"\([A-Z]{2}\)$")
            self.assertNotEqual(asking[-3:-1], peer[-3:-1])
            self.assertIn(label.split(" ")[0], ("strong", "good", "weak"))
            x = float(score)  # shown rounded: skip the labels at a boundary
            if min(abs(x - 2), abs(x - 1)) > 0.01:
                self.assertEqual(label.split(" ")[0], "strong" if x >= 2 else "good" if x >= 1 else "weak")
        href = DRIVER.find_element(By.ID, "pair-csv").get_attribute("href")
        prefix = "data:text/csv;charset=utf-8,"
        self.assertTrue(href.startswith(prefix), href[:40])
        csv = urllib.parse.unquote(href[len(prefix):])
        self.assertEqual(len(csv.strip().split("\r\n")), len(rows) + 1)
        self.assertTrue(csv.startswith("asking_city_id,asking_city,"))
        self.screenshot("pairing")
        self.assert_no_csp_violation()

    def test_round_created_with_live_progress_then_declined_and_rematched(self):
        self.sign_in(console_env.WRITE_TOKEN)
        self.go("#/rounds", "#round-form")
        name = DRIVER.find_element(By.ID, "r-name")
        name.clear()
        name.send_keys("Browser round")
        # Two peers per city, and room at every peer (capacity 10), so that a
        # declined place can be filled by the rematch.
        for field, value in (("r-k", "2"), ("r-capacity", "10")):
            DRIVER.find_element(By.ID, field).clear()
            DRIVER.find_element(By.ID, field).send_keys(value)
        # Records the progress element's states and updates as they happen.
        DRIVER.execute_script("""
          window.__events = [];
          const el = document.getElementById('round-progress');
          new MutationObserver(() => window.__events.push({state: el.getAttribute('data-state'),
              updates: el.getAttribute('data-updates'), bar: (el.querySelector('progress') || {}).value}))
            .observe(el, {attributes: true, subtree: true, attributeFilter: ['data-state', 'data-updates', 'value']});""")
        DRIVER.find_element(By.ID, "round-create").click()
        self.wait(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-routed") == "#/round/browser-round", 90)
        self.find("#round-pairs tbody tr")
        events = DRIVER.execute_script("return window.__events")
        states = [e["state"] for e in events]
        self.assertEqual(states[0], "running")
        self.assertEqual(states[-1], "done")
        # A progress message was shown while the round was still being made.
        running_updates = [e for e in events[:states.index("done")] if e["state"] == "running" and e["updates"]]
        self.assertTrue(running_updates, events)
        _, _, stored = DAEMON.request("GET", "/v1/rounds/browser-round")
        self.assertEqual(stored["name"], "Browser round")
        rows = DRIVER.find_elements(By.CSS_SELECTOR, "#round-pairs tbody tr")
        self.assertEqual(len(rows), len(stored["pairs"]))
        self.assertEqual(len(DRIVER.find_elements(By.CSS_SELECTOR, "#round-map path.arc")), len(rows))
        self.assertEqual(len(DRIVER.find_elements(By.CSS_SELECTOR, "#round-graph line.edge")), len(rows))
        self.screenshot("round")

        # Decline the first pair, with a reason and a comment.
        row = rows[0]
        asking, peer = row.get_attribute("data-asking"), row.get_attribute("data-peer")
        Select(row.find_element(By.CSS_SELECTOR, "select.decline-reason")).select_by_value("DECLINE_REASON_NOT_RELEVANT")
        row.find_element(By.CSS_SELECTOR, "input.decline-comment").send_keys("Different school system")
        row.find_element(By.CSS_SELECTOR, "button.decline").click()
        declined_css = f"#round-pairs tr[data-asking='{asking}'][data-peer='{peer}'][data-state='PAIR_STATE_DECLINED']"
        declined = self.find(declined_css)
        self.assertIn("Not relevant", declined.text)
        self.assertIn("Different school system", declined.text)
        self.assertEqual(declined.find_elements(By.CSS_SELECTOR, "button"), [])
        _, _, stored = DAEMON.request("GET", "/v1/rounds/browser-round")
        pair = [p for p in stored["pairs"] if p["pair"]["askingCityId"] == asking and p["pair"]["peerCityId"] == peer][0]
        self.assertEqual((pair["state"], pair["reason"], pair["comment"]),
                         ("PAIR_STATE_DECLINED", "DECLINE_REASON_NOT_RELEVANT", "Different school system"))
        self.find("#round-waiting")

        # The rematch proposes another peer for that city.
        peers_before = {r.get_attribute("data-peer") for r in DRIVER.find_elements(
            By.CSS_SELECTOR, f"#round-pairs tr[data-asking='{asking}']")}
        self.find("#round-rematch").click()
        added = self.find("#rematch-added")
        self.assertIn(DRIVER.execute_script("return document.querySelector('#round-pairs tr[data-asking=\"' + arguments[0] + '\"] td').textContent", asking), added.text)
        now = DRIVER.find_elements(By.CSS_SELECTOR, f"#round-pairs tr[data-asking='{asking}']")
        new_peers = {r.get_attribute("data-peer") for r in now} - peers_before
        self.assertEqual(len(new_peers), 1, [r.text for r in now])
        self.assertNotIn(peer, new_peers)
        new_row = self.find(f"#round-pairs tr[data-asking='{asking}'][data-peer='{new_peers.pop()}']")
        self.assertEqual(new_row.get_attribute("data-state"), "PAIR_STATE_PROPOSED")
        self.assertIn("new", new_row.text)
        self.find(declined_css)  # still declined, still listed
        _, _, stored = DAEMON.request("GET", "/v1/rounds/browser-round")
        self.assertEqual(stored["rematches"], 1)
        self.assertTrue(any(p["pair"]["askingCityId"] == asking and p["proposedIn"] == 1 for p in stored["pairs"]))
        # The CSV has every pair with its state.
        href = DRIVER.find_element(By.ID, "round-csv").get_attribute("href")
        csv = urllib.parse.unquote(href[len("data:text/csv;charset=utf-8,"):]).strip().split("\r\n")
        self.assertEqual(len(csv), len(stored["pairs"]) + 1)
        self.assertTrue(csv[0].endswith(",state,decline_reason,comment,proposed_in"))
        self.assertTrue(any(",declined,not_relevant,Different school system," in line for line in csv))
        self.screenshot("round-rematched")
        # The round is listed among the earlier rounds.
        self.go("#/rounds", "#rounds-table")
        self.find("#rounds-table tr[data-round='browser-round']")
        self.screenshot("rounds")
        self.assert_no_csp_violation()

    def test_feedback_buttons_record_feedback(self):
        self.sign_in(console_env.WRITE_TOKEN)
        _, _, before = DAEMON.request("GET", "/v1/stats")
        self.go("#/match", "#match-form")
        Select(DRIVER.find_element(By.ID, "match-case")).select_by_value("bahir-dar-covid-pupils-offline")
        DRIVER.find_element(By.ID, "match-run").click()
        extras = self.find("#peers li.peer .evidence-extras")
        solution = extras.get_attribute("data-case")
        extras.find_element(By.CSS_SELECTOR, "button.not-useful").click()
        self.wait(lambda d: extras.get_attribute("data-feedback") == "not-useful")
        self.assertIn("Recorded", extras.text)
        _, _, after = DAEMON.request("GET", "/v1/stats")
        self.assertEqual(int(after["fusion"]["judgements"]), int(before["fusion"]["judgements"]) + 1)
        self.assertEqual(int(after["fusion"]["negatives"]), int(before["fusion"]["negatives"]) + 1)
        # The same solution judged again replaces the judgement.
        extras.find_element(By.CSS_SELECTOR, "button.useful").click()
        self.wait(lambda d: extras.get_attribute("data-feedback") == "useful")
        _, _, again = DAEMON.request("GET", "/v1/stats")
        self.assertEqual(int(again["fusion"]["judgements"]), int(after["fusion"]["judgements"]))
        self.assertEqual(int(again["fusion"]["positives"]), int(before["fusion"]["positives"]) + 1)
        self.assertTrue(solution)
        self.screenshot("match-feedback")
        self.assert_no_csp_violation()

    def test_knowledge_gaps_count_every_challenge_by_theme_and_region(self):
        self.sign_in(console_env.READ_TOKEN)
        self.go("#/gaps", "#gaps-heatmap")
        regions = {c["id"]: c["region"] for c in demo_cities()}
        expected = {}
        challenges = 0
        with open(os.path.join(ARGS.source_dir, "data/demo/cases.jsonl"), encoding="utf-8") as f:
            for line in f:
                c = json.loads(line)["case"]
                if c["kind"] != "CASE_KIND_CHALLENGE":
                    continue
                challenges += 1
                for t in c["themes"]:
                    key = (t, regions[c["cityId"]])
                    expected[key] = expected.get(key, 0) + 1

        def cells():
            return {(g.get_attribute("data-theme"), g.get_attribute("data-region")):
                    (int(g.get_attribute("data-gaps")), int(g.get_attribute("data-all")))
                    for g in DRIVER.find_elements(By.CSS_SELECTOR, "#gaps-heatmap .heat-cell")}

        now = cells()
        self.assertEqual(len(now), 30)  # 6 themes x 5 regions
        self.assertEqual({k: v[1] for k, v in now.items() if v[1]}, expected)
        gaps = sum(v[0] for v in now.values())
        self.assertGreater(gaps, 0)
        self.assertLess(gaps, sum(expected.values()))
        rows = DRIVER.find_elements(By.CSS_SELECTOR, "#gaps-table tbody tr")
        self.assertEqual(len(rows), challenges)
        self.screenshot("gaps")
        # The threshold moves every challenge in or out of the gaps.
        for value, all_gaps in (("1.01", True), ("-1.01", False)):
            field = DRIVER.find_element(By.ID, "gaps-threshold")
            field.clear()
            field.send_keys(value)
            self.assertEqual({k: v[0] for k, v in cells().items()},
                             {k: (v[1] if all_gaps else 0) for k, v in cells().items()})
        self.assert_no_csp_violation()

    def test_a_title_written_as_html_is_shown_as_text(self):
        status, _, body = DAEMON.request("POST", "/v1/cases", {
            "id": XSS_ID, "cityId": "fermo", "kind": "CASE_KIND_SOLUTION", "title": XSS_TITLE,
            "description": "<script>window.__pwned = 1</script> and <b>bold</b>",
            "themes": ["THEME_CULTURE_OF_LEARNING"]})
        self.assertEqual(status, 200, body)
        try:
            self.sign_in(console_env.WRITE_TOKEN)
            self.go("#/cases", "#cases-table tbody tr")
            DRIVER.find_element(By.ID, "case-search").send_keys("onerror")
            link = self.find(f"tr[data-case='{XSS_ID}'] a.case-title")
            self.assertEqual(link.text, XSS_TITLE)
            self.go(f"#/case/{XSS_ID}", "#case-title")
            self.assertEqual(DRIVER.find_element(By.ID, "case-title").text, XSS_TITLE)
            self.assertIn("<script>", DRIVER.find_element(By.ID, "case-description").text)
            self.go("#/city/fermo", "#city-name")
            self.assertIn(XSS_TITLE, DRIVER.find_element(By.ID, "view").text)
            self.assertEqual(DRIVER.find_elements(By.CSS_SELECTOR, "main img, main script, main b"), [])
            self.assertIsNone(DRIVER.execute_script("return window.__pwned"))
            self.assert_no_alert()
            self.screenshot("xss-as-text")
        finally:
            DAEMON.request("DELETE", f"/v1/cases/{XSS_ID}")

    def test_read_only_token_sees_no_edit_controls_and_cannot_write(self):
        self.sign_in(console_env.READ_TOKEN)
        self.assertIn("read-only", DRIVER.find_element(By.ID, "access").text)
        self.go("#/cases", "#cases-table tbody tr")
        self.assertEqual(DRIVER.find_elements(By.CSS_SELECTOR, "#new-case, #import-file"), [])
        self.go("#/case/wuhan-covid-air-classroom", "#case-title")
        self.assertEqual(DRIVER.find_elements(By.CSS_SELECTOR, "#edit-case, #delete-case"), [])
        self.screenshot("read-only")
        status, _, _ = DAEMON.request("POST", "/v1/rounds", {"name": "Read-only view", "options": {"k": 1}})
        self.assertEqual(status, 200)
        self.go("#/rounds", "#rounds-table")
        self.assertEqual(DRIVER.find_elements(By.ID, "round-form"), [])
        self.go("#/round/read-only-view", "#round-pairs tbody tr")
        self.assertEqual(DRIVER.find_elements(
            By.CSS_SELECTOR, "#round-pairs button, #round-pairs select, #round-rematch, #round-close"), [])
        self.go("#/case/wuhan-covid-air-classroom/edit", "main .msg-error")
        self.assertEqual(DRIVER.find_elements(By.ID, "case-form"), [])
        # The token the page holds is refused for a write by the server.
        status = DRIVER.execute_async_script("""
          const done = arguments[arguments.length - 1];
          fetch('/v1/cases/wuhan-covid-air-classroom', {method: 'DELETE',
            headers: {Authorization: 'Bearer ' + sessionStorage.getItem('peermatch.token')}})
            .then(r => done(r.status));""")
        self.assertEqual(status, 403)
        status, _, _ = DAEMON.request("GET", "/v1/cases/wuhan-covid-air-classroom")
        self.assertEqual(status, 200)

    def test_write_token_edits_and_sees_errors_next_to_their_field(self):
        self.sign_in(console_env.WRITE_TOKEN)
        self.go("#/case-new", "#case-form")
        DRIVER.find_element(By.ID, "f-id").send_keys("fermo-console-test-case")
        DRIVER.find_element(By.ID, "f-title").send_keys("Evening classes in the library")
        DRIVER.find_element(By.ID, "f-description").send_keys("Volunteers teach adults to use tablets.")
        DRIVER.find_element(By.ID, "save-case").click()  # no theme chosen
        error = self.find("#e-themes:not(:empty)")
        self.assertIn("case.themes", error.text)
        Select(DRIVER.find_element(By.ID, "f-themes")).select_by_value("THEME_LEARNING_TECHNOLOGIES")
        DRIVER.find_element(By.ID, "save-case").click()
        self.wait(lambda d: d.execute_script("return location.hash") == "#/case/fermo-console-test-case")
        try:
            self.find("#edit-case").click()
            title = self.find("#f-title")
            title.clear()
            DRIVER.find_element(By.ID, "save-case").click()
            self.assertIn("case.title", self.find("#e-title:not(:empty)").text)
            title.send_keys("Evening tablet classes")
            DRIVER.find_element(By.ID, "save-case").click()
            self.wait(lambda d: d.execute_script("return location.hash") == "#/case/fermo-console-test-case")
            self.wait(lambda d: d.find_element(By.ID, "case-title").text == "Evening tablet classes")
            _, _, stored = DAEMON.request("GET", "/v1/cases/fermo-console-test-case")
            self.assertEqual(stored["title"], "Evening tablet classes")
            self.assertEqual(stored["themes"], ["THEME_LEARNING_TECHNOLOGIES"])
            self.screenshot("case")
        finally:
            DAEMON.request("DELETE", "/v1/cases/fermo-console-test-case")


    def test_import_shows_progress_and_the_rejected_lines(self):
        ids = [f"fermo-console-import-{i}" for i in range(45)]
        lines = [json.dumps({"case": {"id": i, "cityId": "fermo", "kind": "CASE_KIND_SOLUTION",
                                      "title": f"Imported {i}", "description": "Reading circles",
                                      "themes": ["THEME_CULTURE_OF_LEARNING"]}}) for i in ids]
        lines[41] = lines[41].replace('"themes": ["THEME_CULTURE_OF_LEARNING"]',
                                                              '"themes": [], "sdgs": [18]')
        path = os.path.join(DAEMON.tmp.name, "import.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines[:20]) + "\n\n" + "\n".join(lines[20:]) + "\n")  # a blank line 21
        try:
            self.sign_in(console_env.WRITE_TOKEN)
            self.go("#/cases", "#import-file")
            DRIVER.find_element(By.ID, "import-file").send_keys(path)
            result = self.wait(lambda d: d.find_element(By.ID, "import-result").text)
            self.assertIn("44 cases written", result)
            self.assertIn("1 rejected", result)
            # Line 43 of the file (the blank line 21 counts): the error names the field.
            self.assertRegex(result, r"line 43 \(fermo-console-import-41\): case\.themes")
            bar = DRIVER.find_element(By.ID, "import-progress")
            self.assertEqual((bar.get_attribute("value"), bar.get_attribute("max")), ("45", "45"))
            status, _, _ = DAEMON.request("GET", "/v1/cases/fermo-console-import-44")
            self.assertEqual(status, 200)
            self.screenshot("import")
        finally:
            for i in ids:
                DAEMON.request("DELETE", f"/v1/cases/{i}")


class OpenServerTest(unittest.TestCase):
    """A server without tokens (loopback only): no sign-in, full access."""

    @classmethod
    def setUpClass(cls):
        cls.daemon = console_env.Daemon(ARGS.source_dir, ARGS.bin_dir, tokens=False)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def test_no_sign_in_and_edit_controls_shown(self):
        DRIVER.get(self.daemon.url + "/#/cases")
        WebDriverWait(DRIVER, 20).until(
            lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-routed") == "#/cases")
        self.assertEqual(DRIVER.find_element(By.ID, "access").get_attribute("data-access"), "open")
        self.assertEqual(DRIVER.find_elements(By.ID, "token"), [])
        self.assertEqual(len(DRIVER.find_elements(By.CSS_SELECTOR, "#new-case, #import-file")), 2)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--screenshots", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
