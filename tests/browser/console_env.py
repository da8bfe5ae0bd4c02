"""A real peermatchd on loopback with the demo data and two tokens, and a
headless Chromium (Debian's chromium, chromium-driver, python3-selenium)
that talks to it: what the console's browser tests and benchmark share.
"""

import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

WRITE_TOKEN = "console-write-token-0123456789"
READ_TOKEN = "console-read-token-0123456789"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """peermatchd over a fresh data directory loaded with data/demo."""

    def __init__(self, source_dir, bin_dir, tokens=True):
        self.tmp = tempfile.TemporaryDirectory(prefix="console-test-")
        data_dir = os.path.join(self.tmp.name, "data")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PEERMATCH_")}
        subprocess.run([os.path.join(bin_dir, "peermatch"), "import", "--data-dir", data_dir,
                        "--file", os.path.join(source_dir, "data/demo/cities.jsonl"),
                        "--file", os.path.join(source_dir, "data/demo/cases.jsonl")],
                       check=True, env=env, stdout=subprocess.DEVNULL, timeout=120)
        self.http_port = free_port()
        args = [os.path.join(bin_dir, "peermatchd"), "--data-dir", data_dir,
                "--listen", f"127.0.0.1:{free_port()}",
                "--http-listen", f"127.0.0.1:{self.http_port}", "--quiet"]
        if tokens:
            args += ["--write-token", WRITE_TOKEN, "--read-token", READ_TOKEN]
        self.process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.http_port}"
        for _ in range(300):  # at most 30 s
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1)
                return
            except Exception:
                if self.process.poll() is not None:
                    raise RuntimeError("peermatchd exited")
                time.sleep(0.1)
        raise RuntimeError("peermatchd did not answer /healthz")

    def request(self, method, path, body=None, token=WRITE_TOKEN):
        """(status, headers, parsed JSON or text) of one HTTP call."""
        req = urllib.request.Request(self.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=10) as res:
                status, headers, data = res.status, res.headers, res.read()
        except urllib.error.HTTPError as e:
            status, headers, data = e.code, e.headers, e.read()
        try:
            return status, headers, json.loads(data)
        except ValueError:
            return status, headers, data

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.tmp.cleanup()


def chrome():
    """Headless Chromium whose browser log (CSP reports included) is kept."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
