#!/usr/bin/env python3
"""The web UI in a real browser: headless Chromium driven by WebDriver (selenium, chromedriver).

    python3 tests/ui_check.py URL ADMIN_TOKEN SCOPED_TOKEN CAMPAIGN SCOPED_PROJECT ECOMM SCREENSHOTS_DIR

Signs in with the admin token, opens every page on the demo's data (its campaign CAMPAIGN, its
e-comm run ECOMM) and checks what each shows, saves a screenshot of each, then signs in with a
token scoped to another client's organisation, whose project is SCOPED_PROJECT, and checks that
the campaign is neither listed nor readable. Exits non-zero, naming the failed check, on any
difference. Chromium and chromedriver are Debian's (`chromium`, `chromium-driver`).
"""

import json
import os
import sys
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-extensions", "--no-first-run",
                 "--window-size=1400,1000", "--hide-scrollbars"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


class Check:
    def __init__(self, driver, url, shots):
        self.d, self.url, self.shots = driver, url, shots

    def open(self, path):
        self.d.get(self.url + path)

    def submit(self, selector="form.filters button"):
        """Clicks a form's button and waits for the page it leads to."""
        before = self.d.current_url
        old = self.d.find_element(By.TAG_NAME, "html")
        self.d.find_element(By.CSS_SELECTOR, selector).click()
        WebDriverWait(self.d, 10).until(lambda d: d.current_url != before and
                                        d.execute_script("return document.readyState") == "complete")
        return old

    def text(self):
        return self.d.find_element(By.TAG_NAME, "body").text

    def expect(self, what, condition):
        if not condition:
            raise AssertionError(f"{what} (at {self.d.current_url})\n--- page ---\n{self.text()[:3000]}")

    def shows(self, *phrases):
        body = self.text()
        for phrase in phrases:
            self.expect(f"the page shows {phrase!r}", phrase in body)

    def shot(self, name):
        # The whole page, not the window: the height of what it holds.
        height = self.d.execute_script("return document.documentElement.scrollHeight")
        self.d.set_window_size(1400, min(max(height + 40, 800), 6000))
        self.d.save_screenshot(os.path.join(self.shots, name + ".png"))
        self.d.set_window_size(1400, 1000)

    def sign_in(self, token, next_path="/ui/"):
        self.open(next_path)
        self.expect("an unsigned visitor is sent to the sign-in form", "/ui/sign-in" in self.d.current_url)
        field = self.d.find_element(By.NAME, "token")
        field.send_keys(token)
        before = self.d.current_url
        field.submit()
        WebDriverWait(self.d, 10).until(lambda d: d.current_url != before or "not valid" in self.text())

    def fetch_status(self, path):
        """A GET of `path` with the browser's session cookie, from outside the browser."""
        cookie = self.d.get_cookie("lineage_session")
        request = urllib.request.Request(self.url + path, headers={"Cookie": f"lineage_session={cookie['value']}"})
        try:
            with urllib.request.urlopen(request) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()


def admin_pages(c, project, other, ecomm):
    c.open("/ui/")
    c.expect("the sign-in form is shown first", "/ui/sign-in" in c.d.current_url)
    c.shows("Read token")
    c.shot("0-sign-in")
    c.sign_in("lin_not-a-token")
    c.shows("the bearer token is not valid")
    c.sign_in(ADMIN)
    cookie = c.d.get_cookie("lineage_session")
    c.expect("the session cookie is HttpOnly", cookie and cookie.get("httpOnly"))
    c.expect("the session cookie is SameSite=Strict", cookie.get("sameSite") == "Strict")

    c.shows("Projects", project, other, ecomm, "Aurora trail shoe", "Brightwave summer fizz", "Northpeak spring catalogue",
            "ready to deliver", "Production", "Aurora Outdoor", "Brightwave Drinks", "Northpeak Gear")
    c.shot("1-projects")

    c.open(f"/ui/projects/{project}")
    c.shows("Stages over time", "Activity by day", "What blocks delivery", "Approval drift", "People",
            "Ideation & references", "R&D", "Exploration", "Production", "Refinement", "Delivery",
            "hero-master-v2", "campaign")
    c.expect("the stage board is drawn", len(c.d.find_elements(By.CSS_SELECTOR, "svg rect")) >= 6)
    c.shot("2-project")

    c.open(f"/ui/projects/{project}/assets")
    cards = c.d.find_elements(By.CSS_SELECTOR, ".card")
    c.expect("the grid shows every asset of the demo", len(cards) >= 25)
    # Thumbnails load lazily: bring them all into view, then wait for them.
    c.d.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    loaded = lambda d: [i for i in d.find_elements(By.CSS_SELECTOR, ".card img")
                        if d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", i)]
    try:
        WebDriverWait(c.d, 15).until(lambda d: len(loaded(d)) >= 20)
    except Exception:
        pass
    count = len(c.d.find_elements(By.CSS_SELECTOR, ".card img"))
    c.expect(f"thumbnails of the files the server holds load ({len(loaded(c.d))} of {count})", len(loaded(c.d)) >= 20)
    c.d.execute_script("window.scrollTo(0, 0)")
    c.shows("AI: trainedAlgorithmicMedia", "QC fail", "QC pass", "approved", "delivered", "not selected", "digitalCapture")
    c.shot("3-assets")
    c.open(f"/ui/projects/{project}/assets?show=rejected")
    c.shows("Rejected", "not selected")

    c.open(f"/ui/projects/{project}/assets/hero-billboard")
    c.shows("Compliance verdict", "PASS", "rules at delivery", "Lineage", "Audit trail", "hero-master-v2",
            "Content Credentials", "Download the evidence bundle", "delivery recorded", "valid")
    c.expect("the lineage graph has its nodes", len(c.d.find_elements(By.CSS_SELECTOR, "svg a")) >= 3)
    c.shot("4-asset-delivered")
    proof = c.d.find_element(By.LINK_TEXT, "inclusion proof").get_attribute("href")
    status, body = c.fetch_status(proof.replace(c.url, ""))
    c.expect(f"the inclusion proof link answers ({status})", status == 200 and b"hashes" in body)
    evidence = c.d.find_element(By.PARTIAL_LINK_TEXT, "evidence bundle").get_attribute("href")
    status, body = c.fetch_status(evidence.replace(c.url, ""))
    c.expect(f"the evidence bundle downloads ({status})", status == 200 and json.loads(body).get("asset") == "hero-billboard")

    c.open(f"/ui/projects/{ecomm}")
    c.shows("Northpeak spring catalogue", "ecomm", "12 of 12 ready to deliver")
    c.open(f"/ui/projects/{ecomm}/assets?show=delivered")
    c.shows("Delivered", "delivered ×20")
    c.d.find_element(By.LINK_TEXT, "Next page →").click()
    WebDriverWait(c.d, 10).until(lambda d: "page=2" in d.current_url)
    c.expect("the grid pages", len(c.d.find_elements(By.CSS_SELECTOR, ".card")) > 0)
    c.shot("3b-ecomm-assets")

    c.open(f"/ui/projects/{project}/assets/hero-master-v2")
    c.shows("post edit applied", "upres")
    c.expect("a master that is not a delivered variant has no verdict", "Compliance verdict" not in c.text())
    c.shot("5-asset-master")

    c.open("/ui/models")
    c.shows("Model version", "Generations", "Selected", "QC failed", "mv-aurora-lora-3", "mv-base-xl-2", "anatomy")
    Select(c.d.find_element(By.NAME, "a")).select_by_index(1)
    Select(c.d.find_element(By.NAME, "b")).select_by_index(2)
    c.submit()
    c.shows("Side by side")
    c.shot("6-models")

    c.open(f"/ui/projects/{project}/history")
    c.shows("History", "project created", "retracted")
    rows = c.d.find_elements(By.CSS_SELECTOR, "table.history tbody tr")
    c.expect("a history page holds at most 50 events", 0 < len(rows) <= 50)
    c.expect("names, not ids, say who", "Maya (producer)" in c.text())
    c.shot("7-history")
    c.d.find_element(By.LINK_TEXT, "Next page →").click()
    WebDriverWait(c.d, 10).until(lambda d: "after=" in d.current_url)
    c.expect("the next page goes on after the last", "after=" in c.d.current_url)
    Select(c.d.find_element(By.NAME, "kind")).select_by_value("qc_review_recorded")
    c.submit()
    kinds = [r.find_elements(By.TAG_NAME, "td")[2].text for r in c.d.find_elements(By.CSS_SELECTOR, "table.history tbody tr")]
    c.expect(f"the kind filter keeps QC reviews only: {kinds}", kinds and all(k == "qc review recorded" for k in kinds))
    c.open(f"/ui/projects/{project}/history?from=2026-13-01")
    c.shows("is a day, YYYY-MM-DD")

    c.open("/ui/")

    c.submit("header button")
    c.expect("signing out returns to the sign-in form", "/ui/sign-in" in c.d.current_url)
    c.open("/ui/models")
    c.expect("after signing out, pages ask to sign in again", "/ui/sign-in" in c.d.current_url)


def scoped_pages(c, project, other):
    c.sign_in(SCOPED)
    c.shows(project, "1 project(s)", "Brightwave summer fizz")
    c.expect("a scoped token does not list another project", other not in c.text())
    c.shot("8-scoped-projects")
    c.open(f"/ui/projects/{other}")
    c.shows("may not read project")
    c.shot("9-scoped-refused")
    for path in (f"/ui/projects/{other}/assets", f"/ui/projects/{other}/history",
                 f"/ui/projects/{other}/assets/hero-billboard", f"/ui/models?project={other}"):
        c.open(path)
        c.shows("may not read project")
    status, _ = c.fetch_status(f"/v1/projects/{other}/assets/img-12/file")
    c.expect(f"a scoped session gets no file of another project ({status})", status == 403)
    c.open(f"/ui/projects/{project}")
    c.shows("Stages over time", "reopened", "What blocks delivery")
    c.shot("10-scoped-project")
    c.open(f"/ui/projects/{project}/assets/fizz-02-instagram")
    c.shows("Compliance verdict", "the evidence bundle needs a token for every project")


if __name__ == "__main__":
    URL, ADMIN, SCOPED, CAMPAIGN, SCOPED_PROJECT, ECOMM, SHOTS = sys.argv[1:8]
    os.makedirs(SHOTS, exist_ok=True)
    driver = browser()
    try:
        check = Check(driver, URL, SHOTS)
        admin_pages(check, CAMPAIGN, SCOPED_PROJECT, ECOMM)
        scoped_pages(check, SCOPED_PROJECT, CAMPAIGN)
    except AssertionError as failure:
        print(f"ui check failed: {failure}", file=sys.stderr)
        sys.exit(1)
    finally:
        driver.quit()
    print(f"ui check passed; screenshots in {SHOTS}")
