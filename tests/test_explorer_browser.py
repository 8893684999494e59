"""The explorer page in a real headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium).

Without the browser these tests skip, except when MODELCHECK_BROWSER_TESTS
is ``required`` (``.ci/run`` sets it): then a missing browser fails them.
MODELCHECK_SCREENSHOTS=DIR saves a PNG of the page at each scenario's end.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from modelcheck.explorer.server import Explorer, serve_in_thread
from modelcheck.explorer.session import Library, ModelChoice
from test_explorer import ABC_LOSS, GALLERY, RAFT

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
REQUIRED = os.environ.get("MODELCHECK_BROWSER_TESTS") == "required"


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for program in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(program) is None:
            return f"{program} is missing (apt-get install chromium chromium-driver)"
    return None


if (why := _missing()) is not None:
    if REQUIRED:
        pytest.fail(f"browser tests are required here, but {why}", pytrace=False)
    pytest.skip(why, allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def server():
    running = serve_in_thread(Explorer(Library("raft"), RAFT, GALLERY))
    yield running
    running.explorer.checks.stop()
    running.shutdown()
    running.server_close()


@pytest.fixture(scope="module")
def browser():
    profile = tempfile.mkdtemp(prefix="modelcheck-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1600,1300"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait(driver, condition, seconds=30):
    return WebDriverWait(driver, seconds).until(condition)


def path_length(driver):
    return len(driver.find_elements(By.CSS_SELECTOR, "#path li")) - 1


def click_step(driver, prefix):
    """Click the one enabled step whose label starts with ``prefix``; wait for the view."""
    before = path_length(driver)
    buttons = [b for b in driver.find_elements(By.CSS_SELECTOR, "#enabled button.step")
               if b.get_attribute("data-label").startswith(prefix)]
    assert len(buttons) == 1, (prefix, [b.get_attribute("data-label") for b in
                                        driver.find_elements(By.CSS_SELECTOR, "#enabled button")])
    buttons[0].click()
    wait(driver, lambda d: path_length(d) == before + 1)


def violation_text(driver):
    return driver.find_element(By.ID, "verdict").text


def wait_for_chart(driver):
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#chart svg")
         and "stale" not in d.find_element(By.ID, "chart").get_attribute("class"))


def screenshot(driver, name):
    folder = os.environ.get("MODELCHECK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))


def state_of(driver):
    """What the page shows of the state: every field row, message and ack."""
    rows = driver.find_elements(By.CSS_SELECTOR, "#state tr, #state li, #state .ack")
    return [row.text for row in rows]


def test_click_through_the_abc_loss_and_see_durability_broken(server, browser):
    browser.get(server.url)
    wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, "#enabled button.step")))
    assert "power_loss: 1 left of 1" in browser.find_element(By.ID, "state").text
    for prefix in ABC_LOSS[:-1]:
        click_step(browser, prefix)
        assert violation_text(browser) == ""
    # C lost its unsynced entry; B's write to come is marked as the breaking step.
    overwrite = [b for b in browser.find_elements(By.CSS_SELECTOR, "#enabled li")
                 if b.find_element(By.TAG_NAME, "button").get_attribute("data-label")
                 .startswith(ABC_LOSS[-1])]
    assert "breaks durability" in overwrite[0].text
    click_step(browser, ABC_LOSS[-1])
    verdict = violation_text(browser)
    assert "durability broken here" in verdict
    assert "write 1 was acknowledged at position 1" in verdict
    broken = browser.find_element(By.CSS_SELECTOR, '#properties li[data-property="durability"]')
    assert "broken" in broken.get_attribute("class")
    # A's log now holds B's entry, unsynced, highlighted as the last change.
    a_log = browser.find_element(By.CSS_SELECTOR, '.node[data-node="A"] tr[data-field="log"]')
    assert "changed" in a_log.get_attribute("class") and "unsynced" in a_log.text
    assert "power_loss: 0 left of 1" in browser.find_element(By.ID, "state").text
    wait_for_chart(browser)
    assert "path=" in browser.current_url
    screenshot(browser, "abc-violation")


def test_reloading_a_shared_url_gives_the_same_state(server, browser):
    browser.get(server.url)
    wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, "#enabled button.step")))
    for prefix in ABC_LOSS[:8]:  # up to C's power loss
        click_step(browser, prefix)
    url, shown = browser.current_url, state_of(browser)
    labels = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#path button")]
    browser.get("about:blank")
    browser.get(url)
    wait(browser, lambda d: path_length(d) == 8)
    assert state_of(browser) == shown
    assert [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#path button")] == labels
    # Back and Forward move along the same path.
    browser.find_element(By.ID, "back").click()
    wait(browser, lambda d: path_length(d) == 7)
    browser.find_element(By.ID, "forward").click()
    wait(browser, lambda d: path_length(d) == 8)
    assert state_of(browser) == shown


def test_open_a_gallery_counterexample_and_step_through_it(server, browser):
    browser.get(server.url)
    wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, "#enabled button.step")))
    Select(browser.find_element(By.ID, "gallery")).select_by_value("kafka-3.4")
    browser.find_element(By.ID, "open-gallery").click()
    wait(browser, lambda d: d.find_element(By.ID, "title").text.startswith("kafka("))
    assert "trace of 11 steps" in browser.find_element(By.ID, "opened").text
    assert path_length(browser) == 0
    for length in range(1, 12):
        browser.find_element(By.ID, "forward").click()
        wait(browser, lambda d, n=length: path_length(d) == n)
    assert "durability broken: write 1 and write 2 were both acknowledged" in violation_text(browser)
    assert browser.find_element(By.ID, "forward").get_attribute("disabled")
    wait_for_chart(browser)
    screenshot(browser, "gallery-kafka-3.4")


def test_run_a_check_from_the_page_and_step_through_its_trace(server, browser):
    two_phase = ModelChoice("two_phase", ("n=2", "bug=commit_early"))
    browser.get(server.url + "#/spec=two_phase&p=n%3D2&p=bug%3Dcommit_early&path=")
    wait(browser, lambda d: d.find_element(By.ID, "title").text.startswith("two_phase("))
    limit = browser.find_element(By.ID, "time-limit")
    limit.clear()
    limit.send_keys("60")
    browser.find_element(By.ID, "run-check").click()
    button = wait(browser, EC.element_to_be_clickable((By.ID, "step-through")), seconds=120)
    assert "violation of TCConsistent" in browser.find_element(By.ID, "check-status").text
    button.click()
    browser.find_element(By.ID, "end").click()
    wait(browser, lambda d: "TCConsistent broken here" in violation_text(d))
    assert two_phase.spec in browser.current_url
    assert server.explorer.checks.status()["status"] == "done"
    wait_for_chart(browser)
    screenshot(browser, "check-two_phase")


def test_a_link_to_a_step_the_model_does_not_offer_is_refused_on_the_page(server, browser):
    browser.get("about:blank")  # a new page load, not a fragment change
    browser.get(server.url + "#/spec=raft&p=fsync%3Dlog_async&path=0.999")
    wait(browser, lambda d: d.find_element(By.ID, "error").is_displayed())
    assert "999 is not an enabled step" in browser.find_element(By.ID, "error").text
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#enabled button.step"))
    assert path_length(browser) == 0
