"""Guest boot 3 (browser image): real browsers read SharpCam from v4l2loopback (exclusive_caps=1).

Chromium (Debian's chromium, driven through chromium-driver by python3-selenium) and Firefox ESR
(driven over its own Marionette port: a tiny JSON-over-TCP client below, no geckodriver) load
guest/browser_page.html from a local HTTP server and report what the page saw.

Steps (each recorded in out/results.json; a failing step does not stop the next ones):
 1. The clip (1280x720 PNGs from the host, 1 frame/s) -> uncompressed clip.avi; `sharpcam enhance`
    it (model at WORK_SIZE, as the daemon) -> the reference the browsers' frames are compared with.
 2. The order trap: Chromium and Firefox open the page BEFORE `sharpcam start` (enumerateDevices,
    getUserMedia({video: true})); which processes hold the device.
 3. `sharpcam start` with both browsers still open: does it start, what does it print.
 4. The same, still open pages try again (a reload, as a user would).
 5. Each browser, launched fresh after SharpCam: the page finds "SharpCam", opens it at
    1280x720@30, draws frames to a canvas for a few seconds and uploads the distinct ones as PNGs.
 6. SIGTERM to the daemon.
Times (browser launch, getUserMedia, first frame) are measured: under TCG they are the emulation's,
not the browsers'.
"""

from __future__ import annotations

import fcntl
import functools
import http.server
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np

from gutil import OUT, OUT_DEV, PY_ENV, SETUP, Daemon, H, Results, W, holders, log, read_video_rgb, sh, wait_capture_ready

R = Results()
# Uncompressed: decoding the FFV1 clip took seconds a frame under TCG on a loaded host, on top of the model.
CLIP = "/tmp/clip.avi"
CLIP_FPS = 1          # a new input frame a second (the model cannot go faster under TCG anyway)
# The model runs at this size and is scaled back to 1280x720, by the daemon and by the offline
# reference alike. At full 720p it took 5.2-5.5 s a frame under TCG with a browser open, and SharpCam
# publishes its "camera not responding" placeholder once no new frame came for 3 s
# (vcam/pipeline.py STALL_PLACEHOLDER_S), so the browsers would mostly see placeholders.
WORK_SIZE = "640x360"
OUTPUT_FPS = 30       # what the page asks for; the daemon re-sends the last frame in between
PORT = 8765
CDP_PORT = 9222
CHROMEDRIVER_PORT = 9515
MARIONETTE_PORT = 2828
LAUNCH_TIMEOUT_S = 300   # measured launches under TCG are printed; this only catches a hang
PAGE_TIMEOUT_S = 420
SAMPLE_SECONDS = 30
KEEP_FRAMES = 8


def loopback_up() -> None:
    """Bring up `lo` (the guest's PID 1 configures no network): the page server, chromedriver and
    Marionette all talk over 127.0.0.1. SIOCGIFFLAGS/SIOCSIFFLAGS, as `ip link set lo up` does."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, 0x8913, struct.pack("16sH14x", b"lo", 0)))[1]
        fcntl.ioctl(s, 0x8914, struct.pack("16sH14x", b"lo", flags | 1))   # IFF_UP
    finally:
        s.close()


class PageServer(http.server.SimpleHTTPRequestHandler):
    """GET serves guest/ (the page); POST /upload/NAME stores a captured frame as out/browser_NAME."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        name = os.path.basename(self.path)
        if not self.path.startswith("/upload/") or not name.endswith(".png"):
            self.send_error(404)
            return
        data = self.rfile.read(int(self.headers["Content-Length"]))
        (OUT / f"browser_{name}").write_bytes(data)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def serve_page() -> None:
    handler = functools.partial(PageServer, directory="/mnt/host/guest")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def page_url(step: str, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"step": step, **params}.items())
    return f"http://127.0.0.1:{PORT}/browser_page.html?{query}"


# Waits for the page's result; DOM reads only, so it works inside Marionette's script sandbox too.
WAIT_RESULT_JS = """
const done = arguments[arguments.length - 1];
(function poll() {
  const r = document.documentElement.getAttribute("data-result");
  if (r) done(r); else setTimeout(poll, 200);
})();
"""


def wait_port(port: int, proc: subprocess.Popen, timeout: float) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode} before its port {port} opened")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"port {port} not open after {timeout:.0f} s")


class Chromium:
    """Debian's chromium, started here with a DevTools port (so its start-up under emulation is not
    bound by chromedriver's own 60 s launch timeout), driven by selenium through chromedriver."""

    name = "chromium"

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.profile = f"/tmp/chromium-{tag}"
        shutil.rmtree(self.profile, ignore_errors=True)
        self.logf = open(OUT / f"chromium-{tag}.log", "w")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            # The binary, not Debian's /usr/bin/chromium wrapper: `chromium --version` through the
            # wrapper once hung the guest (kernel soft lockup in that process for 200+ s, not pinned
            # down), the binary answered in 2 s. Of the wrapper's flags only --disable-dev-shm-usage
            # matters here (it adds it when /dev/shm is under 3.8 GB, as in the guest).
            ["/usr/lib/chromium/chromium", "--headless=new", "--no-sandbox",   # root: no user-namespace sandbox
             "--use-fake-ui-for-media-stream",                 # auto-accept the camera prompt, real devices
             f"--remote-debugging-port={CDP_PORT}", f"--user-data-dir={self.profile}",
             "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--password-store=basic",
             "--disable-dev-shm-usage",
             "--autoplay-policy=no-user-gesture-required", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=subprocess.STDOUT)
        self._wait_devtools(t0)
        self.launch_s = time.monotonic() - t0
        # chromedriver started here too: selenium's own Service gives it 30 s and probes "localhost",
        # which the guest (no /etc/hosts entry) does not resolve.
        self.driver_proc = subprocess.Popen(
            ["chromedriver", f"--port={CHROMEDRIVER_PORT}", f"--log-path={OUT / f'chromedriver-{tag}.log'}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(CHROMEDRIVER_PORT, self.driver_proc, LAUNCH_TIMEOUT_S)
        from selenium import webdriver
        from selenium.webdriver.remote.remote_connection import RemoteConnection

        RemoteConnection.set_timeout(PAGE_TIMEOUT_S + 60)
        opts = webdriver.ChromeOptions()
        opts.debugger_address = f"127.0.0.1:{CDP_PORT}"   # attach to the browser started above
        self.driver = webdriver.Remote(command_executor=f"http://127.0.0.1:{CHROMEDRIVER_PORT}", options=opts)
        self.driver.set_script_timeout(PAGE_TIMEOUT_S)
        self.session_s = time.monotonic() - t0
        self.version = self.driver.capabilities.get("browserVersion", "")

    def _wait_devtools(self, t0: float) -> None:
        while time.monotonic() - t0 < LAUNCH_TIMEOUT_S:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.proc.returncode} at start-up")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{CDP_PORT}/json/version", timeout=5).read()
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"chromium's DevTools port did not open within {LAUNCH_TIMEOUT_S} s")

    def run_page(self, url: str) -> dict:
        self.driver.get(url)
        return json.loads(self.driver.execute_async_script(WAIT_RESULT_JS))

    def close(self) -> None:
        if getattr(self, "driver", None) is not None:
            try:
                self.driver.quit()   # attached session: chromedriver leaves the browser running
            except Exception:  # noqa: BLE001 - the browser goes below either way
                pass
        for proc in (getattr(self, "proc", None), getattr(self, "driver_proc", None)):
            if proc is not None:
                stop_process(proc)


class Marionette:
    """Firefox's remote protocol, enough for a page: messages are `LEN:JSON`; commands
    [0, id, name, params], answers [1, id, error, result]."""

    def __init__(self, port: int, timeout: float) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.next_id = 0
        self.hello = self._read()   # {"applicationType": "gecko", "marionetteProtocol": 3}

    def _read(self):
        while b":" not in self.buf:
            self._more()
        size, self.buf = self.buf.split(b":", 1)
        while len(self.buf) < int(size):
            self._more()
        msg, self.buf = self.buf[:int(size)], self.buf[int(size):]
        return json.loads(msg)

    def _more(self) -> None:
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("Marionette closed the connection")
        self.buf += chunk

    def command(self, name: str, params: dict | None = None):
        self.next_id += 1
        msg = json.dumps([0, self.next_id, name, params or {}]).encode()
        self.sock.sendall(str(len(msg)).encode() + b":" + msg)
        while True:
            reply = self._read()
            if reply[0] == 1 and reply[1] == self.next_id:
                break
        if reply[2]:
            raise RuntimeError(f"Marionette {name}: {reply[2]}")
        return reply[3]


class Firefox:
    """Debian's firefox-esr, headless, with Marionette on; camera prompts off, real devices."""

    name = "firefox"
    PREFS = {
        "media.navigator.permission.disabled": True,   # no permission prompt
        "media.navigator.streams.fake": False,         # the real V4L2 devices, not fake ones
        "marionette.port": MARIONETTE_PORT,
        "browser.shell.checkDefaultBrowser": False,
        "datareporting.policy.dataSubmissionEnabled": False,
        "toolkit.telemetry.reportingpolicy.firstRun": False,
        "browser.startup.homepage_override.mstone": "ignore",
        "app.update.disabledForTesting": True,
    }

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.profile = f"/tmp/firefox-{tag}"
        shutil.rmtree(self.profile, ignore_errors=True)
        os.makedirs(self.profile)
        with open(f"{self.profile}/user.js", "w") as f:
            for k, v in self.PREFS.items():
                f.write(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n")
        self.logf = open(OUT / f"firefox-{tag}.log", "w")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            ["firefox-esr", "--headless", "--marionette", "--no-remote", "--profile", self.profile],
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=subprocess.STDOUT,
            env=dict(os.environ, MOZ_CRASHREPORTER_DISABLE="1"))
        wait_port(MARIONETTE_PORT, self.proc, LAUNCH_TIMEOUT_S)
        self.launch_s = time.monotonic() - t0
        self.m = Marionette(MARIONETTE_PORT, PAGE_TIMEOUT_S + 60)
        caps = self.m.command("WebDriver:NewSession", {})
        self.m.command("WebDriver:SetTimeouts", {"script": PAGE_TIMEOUT_S * 1000, "pageLoad": PAGE_TIMEOUT_S * 1000})
        self.session_s = time.monotonic() - t0
        self.version = caps.get("capabilities", {}).get("browserVersion", "")

    def run_page(self, url: str) -> dict:
        self.m.command("WebDriver:Navigate", {"url": url})
        return json.loads(self.m.command("WebDriver:ExecuteAsyncScript", {"script": WAIT_RESULT_JS, "args": []})["value"])

    def close(self) -> None:
        if getattr(self, "m", None) is not None:
            try:
                self.m.command("Marionette:Quit", {"flags": ["eForceQuit"]})
            except Exception:  # noqa: BLE001 - stopped below either way
                pass
        if getattr(self, "proc", None) is not None:
            stop_process(self.proc)


BROWSERS = {"chromium": Chromium, "firefox": Firefox}


def stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def browser_pids() -> dict[int, str]:
    """pid -> command name of every chromium/firefox process (children included)."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            comm = open(f"/proc/{pid}/comm").read().strip()
        except OSError:
            continue
        if any(n in comm.lower() for n in ("chrom", "firefox", "web content", "isolated", "rdd", "socket")):
            found[int(pid)] = comm
    return found


class MemWatch:
    """The guest's lowest MemAvailable while browsers run (is VCAM_MEM enough?)."""

    def __init__(self) -> None:
        self.min_kib = None
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            for line in open("/proc/meminfo"):
                if line.startswith("MemAvailable:"):
                    kib = int(line.split()[1])
                    self.min_kib = kib if self.min_kib is None else min(self.min_kib, kib)
            time.sleep(1)


def daemon_args() -> list[str]:
    return ["--device", CLIP, "--loop", "--width", str(W), "--height", str(H), "--fps", str(CLIP_FPS),
            "--output-fps", str(OUTPUT_FPS), "--model", SETUP["model"], "--threads", "1",
            "--output-device", OUT_DEV, "--stats-interval", "5",
            # Pinned: under emulation the model cannot keep up, and the frame-rate hold would shrink
            # the work size further; the check compares with the offline enhance at this size.
            "--work-size", WORK_SIZE]


def clip_and_enhance() -> None:
    p = sh(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-framerate", str(CLIP_FPS), "-i", "clip/%02d.png",
            "-c:v", "rawvideo", "-pix_fmt", "bgr24", CLIP], timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"ffmpeg could not make {CLIP}: {p.stderr[-500:]}")
    clip = read_video_rgb(CLIP)
    np.savez_compressed(OUT / "clip_decoded.npz", frames=clip)
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "vcam", "enhance", "--model", SETUP["model"], "--threads", "2",
                        "--work-size", WORK_SIZE, "--no-progress", CLIP, "/tmp/enhanced.mkv"],
                       capture_output=True, text=True, timeout=600, env=PY_ENV, cwd="/mnt/host")
    R.value("enhance_seconds", round(time.monotonic() - t0, 2))
    (OUT / "enhance.log").write_text(p.stdout + p.stderr)
    enhanced = read_video_rgb("/tmp/enhanced.mkv") if p.returncode == 0 else None
    ok = enhanced is not None and clip is not None and len(enhanced) == len(clip)
    R.check("enhance_offline_runs", ok, f"rc={p.returncode} {(p.stdout + p.stderr)[-800:]}")
    if enhanced is not None:
        np.savez_compressed(OUT / "enhanced.npz", frames=enhanced)


def launch(name: str, tag: str):
    log(f"launch {name} ({tag})")
    b = BROWSERS[name].__new__(BROWSERS[name])
    try:
        b.__init__(tag)
    except BaseException:
        b.close()   # a browser that started but could not be driven must not stay and eat the CPU
        raise
    R.value(f"{name}_{tag}_launch", {"launch_s": round(b.launch_s, 1), "session_s": round(b.session_s, 1),
                                      "version": b.version})
    log(f"{name} {b.version}: port open after {b.launch_s:.1f} s, session after {b.session_s:.1f} s")
    return b


def page(b, phase: str, step: str, **params) -> dict:
    t0 = time.monotonic()
    result = b.run_page(page_url(step, **params))
    result["wall_s"] = round(time.monotonic() - t0, 1)
    R.value(f"{b.name}_{phase}", result)
    log(f"{b.name} {phase}: {json.dumps(result)[:1500]}")
    return result


def order_trap() -> Daemon | None:
    """Browsers open the page (and try the camera) before `sharpcam start`, stay open while it starts,
    then try again. Returns the running daemon (restarted the README's way if it could not start)."""
    open_browsers = []
    daemon = None
    try:
        for name in BROWSERS:
            try:
                b = launch(name, "before")
                open_browsers.append(b)
                page(b, "before", "probe")
            except Exception as e:  # noqa: BLE001 - recorded; the other browser still runs
                R.error(f"{name}_before")
                R.value(f"{name}_before", {"error": repr(e)})
        R.value("holders_before_start", {str(p): browser_pids().get(p, "?") for p in holders(OUT_DEV)})
        R.value("v4l2_caps_before_start", sh(["v4l2-ctl", "-d", OUT_DEV, "-D"]).stdout)
        log("start sharpcam with the browsers open")
        daemon = Daemon(daemon_args(), name="daemon_trap")
        t = wait_capture_ready(OUT_DEV, 240)
        R.value("trap_daemon", {"ready_s": t, "alive": daemon.alive(), "rc": daemon.proc.returncode,
                                "log": daemon.log_tail(3000)})
        R.check("trap_daemon_starts_with_browsers_open", t is not None and daemon.alive(),
                f"ready after {t} s, alive={daemon.alive()}\n{daemon.log_tail()}")
        if t is not None:
            time.sleep(5)
            for b in open_browsers:
                try:
                    page(b, "after", "probe")
                except Exception:  # noqa: BLE001
                    R.error(f"{b.name}_after")
    finally:
        for b in open_browsers:
            b.close()
    if daemon is None or not daemon.alive() or not R.data["checks"]["trap_daemon_starts_with_browsers_open"]["ok"]:
        # The README's way out: close the apps (done above), start SharpCam first.
        if daemon is not None and daemon.alive():
            daemon.proc.kill()
            daemon.proc.wait()
        log("restart sharpcam after closing the browsers (module reloaded: v4l2loopback issue #504)")
        from gutil import reload_module
        R.value("reload_before_restart", reload_module())
        daemon = Daemon(daemon_args(), name="daemon")
        t = wait_capture_ready(OUT_DEV, 240)
        R.value("daemon_ready_s", t)
        if t is None:
            R.check("daemon_publishes_sharpcam", False, daemon.log_tail())
            return None
    R.check("daemon_publishes_sharpcam", True, "")
    return daemon


def read_sharpcam(name: str) -> None:
    """A fresh browser, launched after SharpCam started: list, open 1280x720@30, sample frames."""
    b = None
    try:
        b = launch(name, "main")
        result = page(b, "main", "main", seconds=SAMPLE_SECONDS, keep=KEEP_FRAMES, tag=name)
        R.check(f"{name}_reads_sharpcam", bool(result.get("gum", {}).get("ok")) and bool(result.get("frames")),
                json.dumps(result)[:1500])
    except Exception:  # noqa: BLE001
        R.error(f"{name}_main")
    finally:
        if b is not None:
            b.close()


def main() -> int:
    mem = MemWatch()
    for name, fn in (("loopback", loopback_up), ("page_server", serve_page), ("clip_and_enhance", clip_and_enhance)):
        log(f"step {name}")
        try:
            fn()
        except Exception:  # noqa: BLE001 - record and go on
            R.error(name)
    daemon = None
    try:
        log("step order_trap")
        daemon = order_trap()
        if daemon is not None:
            time.sleep(3)   # past the placeholder frames, to the model's output
            for name in BROWSERS:
                log(f"step {name}_main")
                read_sharpcam(name)
            R.value("daemon_log_main", daemon.log_tail(4000))
            rc, dt, released = daemon.sigterm(devices=(OUT_DEV,))
            R.value("sigterm", {"rc": rc, "seconds": round(dt, 2), "devices_released_s": released})
    except Exception:  # noqa: BLE001
        R.error("browsers")
    finally:
        if daemon is not None and daemon.alive():
            daemon.proc.kill()
    R.value("mem_available_min_mib", None if mem.min_kib is None else mem.min_kib // 1024)
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
