#!/usr/bin/python3
"""Benchmarks the console's first load: a fresh headless Chromium tab (cache
disabled) opens / of a demo peermatchd (no tokens, so no sign-in) and
waits for the cities page, map and table drawn. Prints, over --runs loads,
the time from navigation start to the drawn page (the page records it in
<body data-ready-ms>) and the bytes transferred. A program, not a test.

Usage: first_load_bench.py --source-dir DIR --bin-dir DIR [--runs N]
"""

import argparse
import os
import statistics
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import console_env  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    daemon = console_env.Daemon(args.source_dir, args.bin_dir, tokens=False)
    driver = console_env.chrome()
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        times, assets, api = [], [], []
        for _ in range(args.runs + 1):  # the first load warms the server's caches
            driver.get("about:blank")
            driver.get(daemon.url + "/#/cities")
            WebDriverWait(driver, 30).until(
                lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready-ms"))
            ms = float(driver.find_element(By.TAG_NAME, "body").get_attribute("data-ready-ms"))
            rows = len(driver.find_elements(By.CSS_SELECTOR, "#cities-table tbody tr"))
            sizes = driver.execute_script("""
              const nav = performance.getEntriesByType('navigation')[0];
              const res = performance.getEntriesByType('resource');
              const a = res.filter(r => r.name.includes('/console/'));
              const v = res.filter(r => r.name.includes('/v1/'));
              const sum = (l, k) => l.reduce((s, r) => s + r[k], 0);
              return [nav.transferSize + sum(a, 'transferSize'), sum(v, 'transferSize')];""")
            times.append(ms)
            assets.append(sizes[0])
            api.append(sizes[1])
        times, assets, api = times[1:], assets[1:], api[1:]
        print(f"first load of /#/cities ({rows} cities drawn), {args.runs} runs, cache disabled:")
        print(f"  drawn after: median {statistics.median(times):.0f} ms, "
              f"min {min(times):.0f} ms, max {max(times):.0f} ms")
        print(f"  page and assets: {statistics.median(assets) / 1024:.1f} KiB; "
              f"API answers: {statistics.median(api) / 1024:.1f} KiB")
    finally:
        driver.quit()
        daemon.stop()


if __name__ == "__main__":
    main()
