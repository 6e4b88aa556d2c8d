"""The dashboards as a person sees them: Debian's headless Chromium logs in to the native stack's
Superset, opens each dashboard, waits for every chart to draw with no error, and keeps a
screenshot in build/test-output/superset/ (the test run's output folder)."""

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from wharf_infra.contract.dashboards import dashboards
from wharf_infra.core import debian
from wharf_infra.core.paths import BUILD_DIR
from wharf_infra.native.settings import credentials, settings

SCREENSHOTS = BUILD_DIR / "test-output" / "superset"
CHROMIUM = ("chromium", "chromedriver")  # Debian's packages chromium and chromium-driver
RENDER_TIMEOUT_S = 180


def _chromium() -> tuple[str, str]:
    found = [shutil.which(name) for name in CHROMIUM]
    if None in found:
        try:
            debian.install("chromium", "chromium-driver")
        except debian.PackagesMissing as error:
            if os.environ.get("CI") == "true":
                raise
            pytest.skip(f"no headless Chromium here: {error}")
        found = [shutil.which(name) for name in CHROMIUM]
    browser, driver = found
    assert browser and driver, "chromium and chromedriver are installed but not on PATH"
    return browser, driver


@pytest.fixture(scope="module")
def browser(nightly_build: dg.ExecuteInProcessResult) -> Iterator[WebDriver]:
    assert nightly_build.success
    binary, driver_path = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1600,2000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _log_in(driver: WebDriver) -> None:
    login = credentials()["superset"]
    driver.get(f"{settings().url('superset')}/login/")
    wait = WebDriverWait(driver, RENDER_TIMEOUT_S)
    wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "input#username"))).send_keys(
        login["user"]
    )
    driver.find_element(By.CSS_SELECTOR, "input#password").send_keys(login["password"])
    driver.find_element(By.CSS_SELECTOR, "[data-test='login-button'], button[type='submit']").click()
    wait.until(lambda d: "/login" not in d.current_url)


def test_each_dashboard_draws_every_chart_without_an_error(browser: WebDriver) -> None:
    _log_in(browser)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for dashboard in dashboards():
        browser.get(f"{settings().url('superset')}/superset/dashboard/{dashboard.slug}/")
        deadline = time.monotonic() + RENDER_TIMEOUT_S
        while True:
            drawn = browser.find_elements(By.CSS_SELECTOR, ".dashboard-chart canvas, .dashboard-chart table")
            loading = browser.find_elements(By.CSS_SELECTOR, ".dashboard-chart .loading")
            errors = browser.find_elements(
                By.CSS_SELECTOR, ".dashboard-chart [role='alert'], .dashboard-chart .ant-alert-error"
            )
            if errors:
                browser.save_screenshot(str(SCREENSHOTS / f"{dashboard.slug}-error.png"))
                pytest.fail(f"{dashboard.title}: a chart shows an error: {errors[0].text[:500]}")
            if len(drawn) >= len(dashboard.charts) and not loading:
                break
            assert time.monotonic() < deadline, (
                f"{dashboard.title}: {len(drawn)} of {len(dashboard.charts)} charts drawn "
                f"within {RENDER_TIMEOUT_S} s"
            )
            time.sleep(1)
        time.sleep(2)  # the charts' entry animations
        shot: Path = SCREENSHOTS / f"{dashboard.slug}.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000, f"{shot} is nearly empty"
