"""The console in a real browser (docs/console.md): headless Chromium from
Debian's packages, driven by Selenium through chromium-driver, against a spool
started here on the echo model. Run through scripts/console-test, which
installs the browser, the driver and Selenium.

    test_console.py SPOOL_BINARY WORKDIR [--screenshots DIR]

Every wait is a wait for a condition in the page (WebDriverWait), never a
fixed pause."""

from __future__ import annotations

import argparse
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "openapi"))

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from server import ADMIN_EMAIL, ADMIN_PASSWORD, Server  # noqa: E402

# The echo model answers "Echo: " and the message, one word every 80 ms, so
# a reply of WORDS words streams for about five seconds: long enough to see
# it arrive in pieces and to reload the page half-way.
CONFIG = """
default_model = "echo"

[[providers]]
kind = "echo"
name = "echo"
piece_delay_ms = 80

[[models]]
name = "echo"
provider = "echo"
context_window = 128000

# A model whose provider is not there (nothing listens on port 9): its runs
# fail, and the console must show that in the thread.
[[providers]]
kind = "openai"
name = "nowhere"
base_url = "http://127.0.0.1:9/v1"
max_retries = 0

[[models]]
name = "broken"
provider = "nowhere"
context_window = 8000
"""
WORDS = 60
TIMEOUT = 30


def find(driver, css):
    return WebDriverWait(driver, TIMEOUT).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def visible(driver, css):
    return WebDriverWait(driver, TIMEOUT).until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))


def clickable(driver, css):
    return WebDriverWait(driver, TIMEOUT).until(EC.element_to_be_clickable((By.CSS_SELECTOR, css)))


def until(driver, what, condition):
    try:
        wait = WebDriverWait(driver, TIMEOUT, poll_frequency=0.02,
                             ignored_exceptions=[StaleElementReferenceException, NoSuchElementException])
        return wait.until(lambda d: condition(d))
    except Exception as err:  # noqa: BLE001 - say what was awaited
        raise AssertionError(f"timed out waiting for {what}") from err


class Run:
    def __init__(self, driver, base: str, shots: Path | None):
        self.driver = driver
        self.base = base
        self.shots = shots
        self.passed = 0

    def step(self, name: str) -> None:
        self.passed += 1
        print(f"  ok   {name}", flush=True)

    def shot(self, name: str) -> None:
        if self.shots is not None:
            self.driver.save_screenshot(str(self.shots / f"{name}.png"))


def streamed_text(driver) -> str:
    found = driver.find_elements(By.CSS_SELECTOR, "#streaming")
    return found[0].text if found else ""


def last_assistant_text(driver) -> str:
    items = driver.find_elements(By.CSS_SELECTOR, "#messages li.message.assistant:not([data-streaming]) .body")
    return items[-1].text if items else ""


def console_errors(driver) -> list[str]:
    """Console messages at SEVERE level: policy violations and script errors.
    (Answers such as the 422 of a wrong password are logged as failed loads;
    the steps check those themselves.)"""
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("binary", type=Path)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--screenshots", type=Path)
    args = parser.parse_args()
    args.workdir = args.workdir.resolve()
    if args.workdir.exists():
        shutil.rmtree(args.workdir)
    args.workdir.mkdir(parents=True)
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)

    server = Server(args.binary, args.workdir / "server", args.workdir / "spool.log", extra_config=CONFIG)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,900", f"--user-data-dir={args.workdir / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    run = Run(driver, server.base, args.screenshots)
    run.server = server
    try:
        check(run)
    except Exception:
        for entry in driver.get_log("browser"):
            print(f"  browser: {entry['level']} {entry['message']}")
        if args.screenshots is None:
            driver.save_screenshot(str(args.workdir / "failure.png"))
            print(f"  screenshot of the failure: {args.workdir / 'failure.png'}")
        raise
    finally:
        driver.quit()
        server.stop()
    print(f"console: {run.passed} steps passed in Chromium")
    return 0


def check(run: Run) -> None:
    driver, base = run.driver, run.base

    # The page's own answer: a strict policy, no inline script.
    with urllib.request.urlopen(f"{base}/console") as response:
        policy = response.headers["Content-Security-Policy"]
        page = response.read().decode()
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy, policy
    assert "<script>" not in page, "inline script in the console page"
    run.step("the console is served with a strict Content-Security-Policy")

    driver.get(f"{base}/console")
    visible(driver, "#email").send_keys(ADMIN_EMAIL)
    driver.find_element(By.CSS_SELECTOR, "#password").send_keys("not the password")
    run.shot("sign-in")
    driver.find_element(By.CSS_SELECTOR, "#signin").click()
    until(driver, "the wrong-password message", lambda d: "Wrong email or password" in d.find_element(By.CSS_SELECTOR, ".signin .status").text)
    password = driver.find_element(By.CSS_SELECTOR, "#password")
    password.clear()
    password.send_keys(ADMIN_PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#signin").click()
    visible(driver, "#signout")
    assert Select(find(driver, "#workspace")).first_selected_option.text, "no workspace chosen"
    token = driver.execute_script("return sessionStorage.getItem('spool.console.token')")
    assert token and not driver.execute_script("return localStorage.getItem('spool.console.token')"), \
        "without 'remember me' the session stays in the tab"
    run.step("sign in (a wrong password is refused; the session stays in the tab)")

    # An agent.
    driver.get(f"{base}/console#/agents/new")
    visible(driver, "#agent-name").send_keys("Console Helper")
    driver.find_element(By.CSS_SELECTOR, "#agent-instruction").send_keys("Answer briefly.")
    driver.find_element(By.CSS_SELECTOR, "#persona-role").send_keys("Tester")
    run.shot("agent-form")
    driver.find_element(By.CSS_SELECTOR, "#save-agent").click()
    until(driver, "the agent in the list", lambda d: "Console Helper" in d.find_element(By.CSS_SELECTOR, "main").text and d.find_elements(By.CSS_SELECTOR, ".start-thread"))
    run.shot("agents")
    run.step("create an agent")

    # A thread with it, and a streamed reply that arrives in pieces.
    clickable(driver, ".start-thread").click()
    composer = visible(driver, "#composer")
    words = " ".join(f"w{i}" for i in range(WORDS))
    composer.send_keys(f"alpha {words}")
    driver.find_element(By.CSS_SELECTOR, "#send").click()
    seen = []

    def grows(d):
        text = streamed_text(d)
        if text and (not seen or seen[-1] != text):
            seen.append(text)
        return len(seen) >= 3

    until(driver, "the reply to arrive in pieces", grows)
    assert all(seen[i + 1].startswith(seen[i]) for i in range(len(seen) - 1)), seen
    assert seen[0].startswith("Echo:") and len(seen[-1]) < len(f"Echo: alpha {words}"), seen
    until(driver, "the whole reply, stored", lambda d: last_assistant_text(d) == f"Echo: alpha {words}")
    run.shot("thread")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    run.shot("thread-dark")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "light"}]})
    run.step(f"send a message; the echo reply streams in pieces ({len(seen)} seen) and is stored")

    # Rate the reply, and edit the question in place.
    clickable(driver, "#messages li.message.assistant button[aria-label='Good answer']").click()
    until(driver, "the rating kept", lambda d: d.find_element(By.CSS_SELECTOR, "#messages li.message.assistant button[aria-label='Good answer']").get_attribute("aria-pressed") == "true")
    clickable(driver, "#messages li.message.user button.edit").click()
    area = visible(driver, "#messages li.message.user textarea")
    area.clear()
    area.send_keys("alpha, **edited**")
    area.find_element(By.XPATH, "../div/button[text()='Save']").click()
    until(driver, "the edited message, rendered", lambda d: d.find_element(By.CSS_SELECTOR, "#messages li.message.user .body strong").text == "edited")
    run.step("rate a reply; edit a message in place (Markdown rendered by the server)")

    # Rename and pin.
    clickable(driver, "#rename").click()
    title = visible(driver, "input[aria-label='Thread title']")
    title.clear()
    title.send_keys("Console chat")
    title.find_element(By.XPATH, "following-sibling::button").click()
    until(driver, "the new title", lambda d: d.find_element(By.CSS_SELECTOR, "#thread-title").text == "Console chat")
    clickable(driver, "#pin").click()
    until(driver, "the thread pinned", lambda d: d.find_element(By.CSS_SELECTOR, "#pin").text == "Unpin")
    until(driver, "the pinned thread in the list", lambda d: "Pinned · Console chat" in d.find_element(By.CSS_SELECTOR, "#threads").text)
    run.step("rename and pin the thread")

    # Stop a reply half-way.
    visible(driver, "#composer").send_keys(f"charlie {words}")
    driver.find_element(By.CSS_SELECTOR, "#send").click()
    until(driver, "the third reply to begin", lambda d: len(streamed_text(d)) > len("Echo: "))
    clickable(driver, "#stop").click()
    until(driver, "the composer free again", lambda d: d.find_element(By.CSS_SELECTOR, "#send").is_enabled())
    stopped = last_assistant_text(driver)
    assert stopped.startswith("Echo: charlie") and stopped != f"Echo: charlie {words}", stopped
    run.step("Stop cancels the reply; what was written stays")

    # A model that fails: the error shows in the thread.
    Select(driver.find_element(By.CSS_SELECTOR, "#model")).select_by_value("broken")
    visible(driver, "#composer").send_keys("will this work")
    driver.find_element(By.CSS_SELECTOR, "#send").click()
    alert = visible(driver, "#messages li.message.failed .error")
    assert "fail" in alert.text.lower(), alert.text
    run.shot("thread-error")
    Select(driver.find_element(By.CSS_SELECTOR, "#model")).select_by_value("")
    run.step("a failing model shows its error in the thread")

    # Reload while a reply streams: the page follows it again with Last-Event-ID.
    composer = visible(driver, "#composer")
    composer.send_keys(f"bravo {words}")
    driver.find_element(By.CSS_SELECTOR, "#send").click()
    until(driver, "the second reply to begin", lambda d: len(streamed_text(d)) > len("Echo: "))
    before = driver.execute_script("return JSON.parse(sessionStorage.getItem('spool.console.stream'))")
    assert before and before["run"] and before["last"] > 0, before
    driver.refresh()
    until(driver, "the resumed reply, whole", lambda d: last_assistant_text(d) == f"Echo: bravo {words}")
    resumed = server_log_lines(run, rf"path=/api/v1/runs/{before['run']}/events")
    assert resumed, "the reloaded page did not re-attach to the run"
    texts = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#messages li.message .body")]
    assert texts.count(f"Echo: bravo {words}") == 1, texts
    run.step("reload mid-stream: the page re-attaches with Last-Event-ID and shows the whole reply once")

    # Search finds the thread by a word of its messages.
    driver.get(f"{base}/console#/threads")
    search = visible(driver, "#search")
    search.send_keys("bravo")
    until(driver, "the thread in the search results", lambda d: len(d.find_elements(By.CSS_SELECTOR, "#threads li")) == 1)
    run.shot("threads")
    run.step("search finds the thread")

    # A narrow screen: everything still reachable.
    driver.set_window_size(360, 780)
    driver.find_element(By.CSS_SELECTOR, "#threads li a").click()
    visible(driver, "#composer")
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width}px wide at 360px"
    run.shot("thread-narrow")
    driver.set_window_size(1280, 900)
    run.step("works 360 px wide")

    # API keys: created, shown once.
    driver.get(f"{base}/console#/keys")
    visible(driver, "#key-name").send_keys("console test")
    driver.find_element(By.CSS_SELECTOR, "#create-key").click()
    key = visible(driver, "#new-key-value").text
    assert key.startswith("spk_"), key
    run.shot("keys")
    run.step("create an API key (shown once)")

    # Delete a thread, after confirming.
    driver.get(f"{base}/console#/threads")
    clickable(driver, "#new-thread").click()
    clickable(driver, "#delete-thread").click()
    dialog = visible(driver, "dialog[open]")
    dialog.find_element(By.XPATH, ".//button[text()='Cancel']").click()
    visible(driver, "#delete-thread")
    count = len(driver.find_elements(By.CSS_SELECTOR, "#threads li"))
    clickable(driver, "#delete-thread").click()
    visible(driver, "dialog[open]").find_element(By.XPATH, ".//button[text()='Delete']").click()
    until(driver, "the thread gone", lambda d: "#/threads" == d.execute_script("return location.hash")
          and len(d.find_elements(By.CSS_SELECTOR, "#threads li")) == count - 1)
    run.step("delete a thread after confirming (cancel keeps it)")

    errors = console_errors(driver)
    assert not errors, errors
    run.step("no script errors or policy violations in the browser console")

    clickable(driver, "#signout").click()
    visible(driver, "#email")
    assert not driver.execute_script("return sessionStorage.getItem('spool.console.token')")
    request = urllib.request.Request(f"{base}/api/v1/user", headers={"Authorization": f"Bearer {token}"})
    try:
        urllib.request.urlopen(request)
        raise AssertionError("the session still works after signing out")
    except urllib.error.HTTPError as err:
        assert err.code == 401, err.code
    run.step("sign out (the session is revoked)")


def server_log_lines(run: Run, pattern: str) -> list[str]:
    return run.server.log_lines(pattern)


if __name__ == "__main__":
    sys.exit(main())
