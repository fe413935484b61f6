"""docs/merchant-quickstart.md, walked end to end: its blocks, run in order, against a real
server, so that a renamed command, endpoint or SDK method fails here, not for a reader.

Each fenced block in the document follows a ``<!-- quickstart: KIND … -->`` line that
says what a reader does with it: ``file PATH`` (save it), ``terminal`` (run in every new
terminal), ``shell`` (run it; it must succeed), ``platform`` (``make run``, left running),
``background NAME URL`` (left running; ready when URL answers). ``buyer pays`` and
``buyer confirms`` stand before the buyer's steps in the browser, which the test does in
headless Chromium with a virtual passkey. A fenced block without its line fails the test.

The reader's folder is a temporary one: ``.venv/bin`` holds ``python`` and ``paywarden``
running this checkout's code, and ``make run`` is the Makefile's own recipe for it. The
document's ports (8000, 8001) become free ones.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.browser import VirtualAuthenticator

from .server import free_port

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "docs" / "merchant-quickstart.md"
STEP = re.compile(r"^<!-- quickstart: (?P<kind>[a-z]+)(?: (?P<args>[^>]*?))? -->\n"
                  r"(?:```[a-z]*\n(?P<code>.*?)^```\n)?", re.MULTILINE | re.DOTALL)
FENCE = re.compile(r"^```", re.MULTILINE)
MAKE_RUN = "$(VENV)/bin/paywarden run"
READY_TIMEOUT_S = 60
SHELL_TIMEOUT_S = 120
WEBHOOKS_TIMEOUT_S = 30
BLOCK_KINDS = {"file", "terminal", "shell", "platform", "background"}


@dataclass(frozen=True)
class Step:
    kind: str
    args: list[str]
    code: str | None


def steps(text: str, ports: dict[str, str]) -> list[Step]:
    """The document's steps in order, with its ports replaced by ours."""
    found = []
    for m in STEP.finditer(text):
        code = m["code"]
        for old, new in ports.items():
            code = None if code is None else re.sub(rf"\b{old}\b", new, code)
        assert (code is not None) == (m["kind"] in BLOCK_KINDS), m.group(0)
        found.append(Step(m["kind"], (m["args"] or "").split(), code))
    fences = len(FENCE.findall(text)) // 2
    assert fences == sum(s.code is not None for s in found), "a block has no quickstart line"
    return found


class Reader:
    """The reader's folder and terminals: what the document's steps run in."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.prelude = ""
        self.outputs: list[str] = []
        self.running: list[tuple[subprocess.Popen[bytes], Path]] = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PAYWARDEN_")}
        bin_dir = folder / ".venv" / "bin"
        bin_dir.mkdir(parents=True)
        for name, command in (("python", sys.executable),
                              ("paywarden", f"{sys.executable} -m paywarden")):
            (bin_dir / name).write_text(f'#!/bin/sh\nexec {command} "$@"\n')
            (bin_dir / name).chmod(0o755)
        (bin_dir / "activate").write_text(f'export PATH="{bin_dir}:$PATH"\n')

    def shell(self, code: str) -> str:
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", self.prelude + code],
                              cwd=self.folder, env=self.env, capture_output=True, text=True,
                              timeout=SHELL_TIMEOUT_S, check=False)
        assert done.returncode == 0, f"{code}\n{done.stdout}\n{done.stderr}"
        self.outputs.append(done.stdout)
        return done.stdout

    def start(self, name: str, code: str, ready_url: str) -> None:
        log_path = self.folder / f"{name}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(["bash", "-euc", self.prelude + code], cwd=self.folder,
                                    env=self.env, stdout=log, stderr=log,
                                    start_new_session=True)
        self.running.append((proc, log_path))
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        pytest.fail(f"{name} did not start:\n{log_path.read_text()}")

    def stop(self) -> None:
        for proc, _ in reversed(self.running):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)  # the group this test started
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text()


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[Reader]:
    walker = Reader(tmp_path)
    try:
        yield walker
    finally:
        walker.stop()


def _make_run(code: str) -> str:
    """``make run`` as the Makefile's recipe runs it (its install steps aside)."""
    recipe = re.search(r"^run:.*\n\t(.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert recipe is not None and recipe[1].strip() == MAKE_RUN
    assert "make run" in code
    return code.replace("make run", "exec .venv/bin/paywarden run")


def test_the_merchant_quickstart_takes_a_checkout_to_released(
        reader: Reader, passkey_page: tuple[Any, VirtualAuthenticator]) -> None:
    platform_port, shop_port = free_port(), free_port()
    base = f"http://localhost:{platform_port}"
    page, _ = passkey_page
    buyer: dict[str, Callable[[], None]] = {
        "pays": lambda: _buyer_pays(page, base, reader.folder),
        "confirms": lambda: _buyer_confirms(page, reader.folder),
    }
    for step in steps(QUICKSTART.read_text(), {"8000": str(platform_port),
                                               "8001": str(shop_port)}):
        if step.kind == "file":
            (reader.folder / step.args[0]).parent.mkdir(parents=True, exist_ok=True)
            (reader.folder / step.args[0]).write_text(step.code or "")
        elif step.kind == "terminal":
            reader.prelude = step.code or ""
        elif step.kind == "platform":
            reader.start("platform", _make_run(step.code or ""), f"{base}/health/ready")
        elif step.kind == "background":
            reader.start(step.args[0], step.code or "",
                         step.args[1].replace("8001", str(shop_port)))
        elif step.kind == "shell":
            reader.shell(step.code or "")
        else:
            buyer[step.args[0]]()
    assert "released 5369 fee 81 EUR" in reader.outputs[-1]
    _the_shop_accepted_each_webhook(reader)
    _the_landing_page_links_to_the_quickstart(page, base, reader.folder)


def _buyer_pays(page: Any, base: str, folder: Path) -> None:
    """Step 6 as a person does it: sign up with a passkey, add the test card, pay."""
    url = json.loads((folder / "myshop" / "order.json").read_text())["url"]
    assert url.startswith(f"{base}/pay/cs_")
    page.goto(url)
    page.wait_for_url(re.compile(r"/signin\?next="))  # not signed in yet
    page.goto(f"{base}/signup")
    page.fill("#username", "first-buyer")
    page.fill("#display-name", "First Buyer")
    page.fill("#phrase", "blue heron 7")
    page.click("#create")
    page.wait_for_url(f"{base}/account")
    page.fill("#card-number", "4242 4242 4242 4242")
    page.fill("#card-exp-month", "12")
    page.fill("#card-exp-year", str(time.gmtime().tm_year + 3))
    page.fill("#card-holder", "First Buyer")
    page.click("#add-card")
    expect(page.locator("#card-list")).to_contain_text("ending 4242")
    page.goto(url)
    expect(page.locator("#legal-name")).to_have_text("My Shop Ltd")
    expect(page.locator("#domain")).to_have_text("localhost")
    expect(page.locator("#amount")).to_have_text("54.50 EUR")
    expect(page.locator("#phrase")).to_have_text("blue heron 7")
    page.check("input[name=method][value=card]")
    expect(page.locator("#pay")).to_have_text("Confirm 54.50 EUR with your passkey")
    page.screenshot(path=str(folder / "checkout.png"), full_page=True)
    page.click("#pay")
    expect(page.locator("#status")).to_have_attribute("data-kind", "ok")
    expect(page.locator("#status")).to_contain_text("Paid.")
    page.screenshot(path=str(folder / "paid.png"), full_page=True)


def _buyer_confirms(page: Any, folder: Path) -> None:
    """Step 7: once shipped, the buyer says it arrived; the money goes to the shop."""
    page.goto(json.loads((folder / "myshop" / "order.json").read_text())["url"])
    expect(page.locator("#status")).to_contain_text("the shop has shipped this order")
    page.click("#confirm-receipt")
    expect(page.locator("#status")).to_contain_text("the money was released to the shop")
    page.screenshot(path=str(folder / "released.png"), full_page=True)


def _the_shop_accepted_each_webhook(reader: Reader) -> None:
    """Step 8's delivery log, as the shop printed it: pay, ship, confirm_receipt, each once
    and each with the state it left the payment in. Deliveries are asynchronous and their
    order is not promised (a retried delivery overtakes nothing, but two due ones may
    cross), so the log is compared by event, not by line order."""
    expected = ["payment.pay", "payment.ship", "payment.confirm_receipt"]
    events = reader.folder / "myshop" / "webhooks.jsonl"
    deadline = time.monotonic() + WEBHOOKS_TIMEOUT_S
    while time.monotonic() < deadline:
        lines = events.read_text().splitlines() if events.exists() else []
        if len(lines) >= len(expected):
            break
        time.sleep(0.5)
    seen = [json.loads(line) for line in events.read_text().splitlines()]
    assert sorted(e["type"] for e in seen) == sorted(expected), reader.log("shop")
    states = {e["type"]: e["data"]["payment"]["state"] for e in seen}
    assert states == {"payment.pay": "held", "payment.ship": "shipped",
                      "payment.confirm_receipt": "released"}, reader.log("shop")
    assert "refused a webhook" not in reader.log("shop")
    assert "payment.confirm_receipt" in reader.log("shop")


def _the_landing_page_links_to_the_quickstart(page: Any, base: str, folder: Path) -> None:
    """The same document, rendered on the platform: linked from ``/``, markers dropped."""
    page.goto(f"{base}/")
    page.click("text=Merchant quick-start")
    page.wait_for_url(f"{base}/docs/merchant-quickstart")
    guide = page.locator("#guide")
    expect(guide).to_contain_text("paywarden merchants certification apply")
    expect(guide.locator("pre").first).to_contain_text("PAYWARDEN_PUBLIC_URL")
    assert "quickstart: file" not in (guide.text_content() or "")
    page.screenshot(path=str(folder / "quickstart-page.png"))
