"""The dashboards as a person sees them: Debian's headless Chromium logs in to the native stack's
Superset, opens each dashboard, waits for every chart to draw with no error, and keeps a
screenshot in build/test-output/superset/ (the test run's output folder)."""

import time
from pathlib import Path

import dagster as dg
import pytest
from conftest import SCREENSHOT_DIR
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from wharf_infra.contract.dashboards import dashboards
from wharf_infra.native.settings import credentials, settings

SCREENSHOTS = SCREENSHOT_DIR / "superset"
RENDER_TIMEOUT_S = 180


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


def test_each_dashboard_draws_every_chart_without_an_error(
    browser: WebDriver, nightly_build: dg.ExecuteInProcessResult
) -> None:
    assert nightly_build.success
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
