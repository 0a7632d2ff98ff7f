"""The MOS page's screenshot in the README (runs/eval/mos-page.png): a study of scikit-image's astronaut
made by `sharpcam-kd mos make` with the default and the previous default, two ratings given, in headless
Chromium (Debian's chromium + chromium-driver). python runs/mos_screenshot.py"""
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import skimage.data
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

tmp = Path(tempfile.mkdtemp())
(tmp / "hr").mkdir()
Image.fromarray(skimage.data.astronaut()[20:276, 130:386]).save(tmp / "hr" / "astronaut.png")
subprocess.run([sys.executable, "-m", "kd", "mos", "make", "export/sharpcam-cs.json", "export/sharpcam-rt-int8.json",
                "--images", str(tmp / "hr"), "--crop", "256", "--out", str(tmp / "study")], check=True)
opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp / 'profile'}", "--window-size=900,760", "--hide-scrollbars"):
    opts.add_argument(flag)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
try:
    driver.get((tmp / "study" / "index.html").as_uri())
    driver.find_element(By.ID, "rater").send_keys("rater 7")
    driver.find_element(By.ID, "begin").click()
    for key in "43":
        driver.find_element(By.TAG_NAME, "body").send_keys(key)
    time.sleep(0.5)
    driver.save_screenshot("runs/eval/mos-page.png")
finally:
    driver.quit()
