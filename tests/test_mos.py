"""`sharpcam-kd mos`: the rating page driven by a scripted rater in headless Chromium, and the scorer."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from photos import write_photo_folder

from kd.mos import make_command, score_command, score_study

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def study(tmp_path_factory, residual_card: Path) -> Path:
    root = tmp_path_factory.mktemp("mos")
    write_photo_folder(root / "hr", size=96, names=("astronaut", "coffee"))
    (root / "unsharp.toml").write_text("[unsharp]\nsigma = 1.0\namount = 0.7\n")
    r = CliRunner().invoke(make_command, [str(residual_card), "--images", str(root / "hr"), "--crop", "96",
                                          "--unsharp", str(root / "unsharp.toml"), "--out", str(root / "study")])
    assert r.exit_code == 0, r.output
    return root / "study"


def _bot_score(key: dict, stimulus: str) -> int:
    method = next(s["method"] for s in key["stimuli"] if s["id"] == stimulus)
    return 1 if method.startswith("input") else 3 if method.startswith("unsharp") else 5


def test_study_is_blind_and_complete(study: Path) -> None:
    key = json.loads((study / "key.json").read_text())
    assert len(key["methods"]) == 3 and len(key["stimuli"]) == 2 * 3 and len(key["repeats"]) >= 2
    page = (study / "index.html").read_text()
    for s in key["stimuli"]:
        assert (study / s["file"]).is_file()
        assert s["method"] not in page  # the page never names a method
    assert "http://" not in page and "https://" not in page  # nothing loads from the network


@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium + chromium-driver (.ci/run installs them)")
def test_a_scripted_rater_in_headless_chromium(study: Path, tmp_path: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    key = json.loads((study / "key.json").read_text())
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1100,900"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        driver.get((study / "index.html").as_uri())
        total = len(key["stimuli"]) + len(key["repeats"])

        def start(rater: str) -> None:
            box = driver.find_element(By.ID, "rater")
            box.clear()
            box.send_keys(rater)
            driver.find_element(By.ID, "begin").click()

        def rate_one(with_key: bool) -> None:
            pic = driver.find_element(By.ID, "pic")
            deadline = time.monotonic() + 20
            while not driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", pic):
                assert time.monotonic() < deadline, "picture did not load"
                time.sleep(0.02)
            stimulus = Path(pic.get_attribute("src")).stem
            score = _bot_score(key, stimulus)
            if with_key:
                driver.find_element(By.TAG_NAME, "body").send_keys(str(score))
            else:
                driver.find_element(By.CSS_SELECTOR, f"#acr button[data-score='{score}']").click()

        start("bot 1")
        half = total // 2
        for i in range(half):
            rate_one(with_key=i % 2 == 0)  # keyboard and mouse
        assert driver.find_element(By.ID, "count").text == f"{half} of {total} rated"
        driver.refresh()  # the rater closes the page and comes back: resumes where they were
        driver.find_element(By.ID, "rater").send_keys("bot 1")
        assert f"{half} already rated" in driver.find_element(By.ID, "resume").text
        driver.find_element(By.ID, "begin").click()
        for _ in range(total - half):
            rate_one(with_key=True)
        assert driver.find_element(By.ID, "done").is_displayed()
        driver.find_element(By.ID, "save").click()
        deadline = time.monotonic() + 20
        while not list(downloads.glob("mos-*.json")):
            assert time.monotonic() < deadline, "no results file was saved"
            time.sleep(0.05)
        driver.save_screenshot(str(tmp_path / "done.png"))
    finally:
        driver.quit()
    (saved,) = downloads.glob("mos-*.json")
    data = json.loads(saved.read_text())
    assert data["study"] == key["study"] and data["rater"] == "bot 1" and len(data["ratings"]) == total
    out = tmp_path / "score"
    r = CliRunner().invoke(score_command, [str(study), str(saved), "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = {row["method"]: row for row in json.loads(out.with_suffix(".json").read_text())["methods"]}
    assert [rows[m]["mos"] for m in key["methods"]] == [1.0, 3.0, 5.0]  # the scripted scores, pooled back
    assert out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"


def test_screening_flags_an_inconsistent_rater(study: Path) -> None:
    key = json.loads((study / "key.json").read_text())
    rng = np.random.default_rng(0)
    raters = {}
    for name in ("a", "b", "c"):
        ratings = [{"id": s["id"], "score": _bot_score(key, s["id"])} for s in key["stimuli"]]
        ratings += [{"id": sid, "score": _bot_score(key, sid)} for sid in key["repeats"]]
        raters[name] = ratings
    raters["d"] = [{"id": s["id"], "score": int(rng.integers(1, 6))} for s in key["stimuli"]] + \
                  [{"id": sid, "score": 5 if _bot_score(key, sid) == 1 else 1} for sid in key["repeats"]]
    result = score_study(key, raters)
    assert result["raters"]["d"]["flagged"] and sorted(result["kept"]) == ["a", "b", "c"]
    mos = {r["method"]: r["mos"] for r in result["methods"]}
    assert mos[key["methods"][0]] == 1.0 and mos[key["methods"][2]] == 5.0


def test_score_refuses_files_of_another_study(study: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"study": "nope", "rater": "x", "ratings": []}))
    r = CliRunner().invoke(score_command, [str(study), str(other), "--out", str(tmp_path / "s")])
    assert r.exit_code == 1 and "not a result of study" in r.output
