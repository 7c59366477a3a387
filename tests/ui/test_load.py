"""A class at once: 30 learners in 30 browser sessions sign in and press Run within a few seconds.

Real app, real models, a real SQLite file, Debian Chromium (one browser, a
context per learner, driven concurrently). Every verdict must arrive, every
attempt be saved once, and no page or server log show an error. The latencies
are reported (printed, and written beside the test's data), never asserted: the
machines are noisy, and speed is `prompt-sandbox bench`'s job.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from pathlib import Path

import psutil
import pytest

from sandbox.classroom.store import Store

from ..browsing import CHROMIUM, CHROMIUM_ARGS, Server, needs_chromium

LEARNERS = 30
SOLUTION = (
    "Classify the sentiment of this customer review as positive or negative. Answer with one word.\n\nReview: {input}"
)
GUESS = "Is this review good or bad? {input}"

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_chromium]


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


async def _learner(browser, url: str, name: str, pin: str, prompt: str, ready, go, times: dict) -> None:
    context = await browser.new_context()
    context.set_default_timeout(180_000)  # 30 pages load at once beside the model on the same cores
    context.set_default_navigation_timeout(180_000)
    try:
        page = await context.new_page()
        await page.goto(url)
        started = time.monotonic()
        await page.get_by_label("Your name").click()
        await page.keyboard.type(name)
        await page.get_by_role("option", name=name, exact=False).first.click()
        await page.get_by_label("Your PIN").fill(pin)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_text(f"Signed in as {name}").wait_for()
        while not any(c["name"] == "prompt_sandbox_session" for c in await context.cookies()):
            await page.wait_for_timeout(50)  # the session's cookie is kept just after the page draws
        times["signed_in"][name] = time.monotonic() - started
        await page.goto(f"{url}/practice?exercise=sentiment-label")
        await page.get_by_role("textbox", name="Your prompt").fill(prompt)
        ready.release()
        await go.wait()  # everyone presses Run together
        await page.get_by_role("button", name="Run", exact=True).click()
        times["pressed"][name] = time.monotonic()
        await page.get_by_text("Attempt 1 · score").first.wait_for(timeout=900_000)
        times["answered"][name] = time.monotonic()
        assert await page.locator("[data-testid='stException']").count() == 0, name
        errors = await page.locator("[data-testid='stAlertContentError']").all_inner_texts()
        assert errors == [], (name, errors)
    finally:
        await context.close()


def _cpu_s(pid: int) -> float:
    """CPU seconds the app's process has used so far (where the time goes: the app, or the 30 browsers)."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


async def _class(url: str, pins: dict[str, str], prompts: dict[str, str], server_pid: int) -> dict:
    from playwright.async_api import async_playwright

    times: dict = {"signed_in": {}, "pressed": {}, "answered": {}, "cpu_start": _cpu_s(server_pid)}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ready, go = asyncio.Semaphore(0), asyncio.Event()
        learners = [
            asyncio.create_task(_learner(browser, url, name, pin, prompts[name], ready, go, times))
            for name, pin in pins.items()
        ]

        async def everyone_ready() -> None:
            for _ in pins:
                await ready.acquire()
            times["cpu_ready"] = _cpu_s(server_pid)
            times["ready_at"] = time.monotonic()
            go.set()

        await asyncio.gather(everyone_ready(), *learners)
        times["cpu_end"] = _cpu_s(server_pid)
        await browser.close()
    return times


def test_thirty_learners_sign_in_and_run_at_once(tmp_path: Path) -> None:
    server = Server(tmp_path / "data")
    server.start()
    try:
        names = [f"Learner {n:02d}" for n in range(LEARNERS)]
        pins = {name: server.enrol(name, "load-1") for name in names}
        prompts = {name: SOLUTION if n % 2 == 0 else GUESS for n, name in enumerate(names)}
        assert server.process is not None
        started = time.monotonic()
        times = asyncio.run(_class(server.url, pins, prompts, server.process.pid))

        attempts = Store(server.database).all_attempts()
        assert sorted(a.learner for a in attempts) == names, "every attempt saved, once"
        assert all(a.prompt == prompts[a.learner] for a in attempts)
        outcomes = {(a.prompt, a.passed, a.score, tuple(c.output for c in a.verdict.cases)) for a in attempts}
        assert len(outcomes) == 2, "one prompt gets one verdict, whoever else pressed Run at the same moment"
        assert all(a.passed for a in attempts if a.prompt == SOLUTION)
        assert "Traceback" not in server.log.read_text(errors="replace")

        pressed, answered = times["pressed"], times["answered"]
        latencies = [answered[name] - pressed[name] for name in names]
        report = {
            "learners": LEARNERS,
            "sign_in_median_s": round(statistics.median(times["signed_in"].values()), 1),
            "sign_in_p95_s": round(_p95(list(times["signed_in"].values())), 1),
            "run_pressed_within_s": round(max(pressed.values()) - min(pressed.values()), 2),
            "verdict_median_s": round(statistics.median(latencies), 1),
            "verdict_p95_s": round(_p95(latencies), 1),
            "last_verdict_s": round(max(answered.values()) - min(pressed.values()), 1),
            "signing_in_phase_s": round(times["ready_at"] - started, 1),
            "app_cpu_s_signing_in": round(times["cpu_ready"] - times["cpu_start"], 1),
            "app_cpu_s_running": round(times["cpu_end"] - times["cpu_ready"], 1),
        }
        (tmp_path / "load-report.json").write_text(json.dumps(report, indent=2))
        print("\nload:", json.dumps(report))
    finally:
        server.stop()
