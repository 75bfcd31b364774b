#!/usr/bin/python3
"""Dashboards in a real browser (docs/broker.md, "Dashboards"): headless Chromium driven
by Selenium (Debian chromium, chromium-driver, python3-selenium) against `mqfleet broker`
on free ports. Cases:
  history  the timeseries (Chart.js) and gauge show the bucket's history
  live     a new PUBLISH reaches the open page within 1 s, pushed over the live WebSocket
           (polling is off while the socket is open, so a broken push fails this case)
  slider   the slider's command reaches a simulated device (`mqfleet sim`, a command
           device like the greenhouse's), whose reply shows up on the page
  tenancy  another account's token gets 403 and no data, its live socket is refused,
           and its own page receives none of the first account's points
  map      the map widget plots a track of {lat, lon} points; the LED shows last seen
Each case saves a PNG screenshot into --artifacts (printed as "screenshot: PATH").

Usage: dashboard_browser.py --bin mqfleet --case NAME --artifacts DIR"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import paho.mqtt.client as mqtt
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from web_side import Broker, Fail, check  # noqa: E402


def browser(tmp):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--no-first-run", "--user-data-dir=" + os.path.join(tmp, "chrome")):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver", log_path=os.devnull), options=options)


def wait_for(what, fn, timeout=10.0, step=0.05):
    deadline = time.time() + timeout
    value = None
    while time.time() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(step)
    raise Fail(f"{what}: not within {timeout} s (last: {value!r})")


def latest(driver, selector):
    return driver.execute_script("const w=document.querySelector(arguments[0]);return w?w.dataset.latest||null:null;",
                                 selector)


def publisher(b, client_id="d1", user="acme", password="k1"):
    c = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv311)
    c.username_pw_set(user, password)
    c.connect("127.0.0.1", b.mqtt_port, keepalive=30)
    c.loop_start()
    return c


def publish(c, topic, payload):
    info = c.publish(topic, json.dumps(payload), qos=1)
    info.wait_for_publish(10)
    check(info.is_published(), f"PUBLISH {topic} not acknowledged")


def add_dashboard(b, account, ident, *widgets):
    args = ["dashboard", "add", account, ident, "--registry", b.reg, "--title", ident]
    for w in widgets:
        args += ["--widget", w]
    b.cli(*args)


def reload_count(b):
    b.log.flush()
    with open(b.log.name) as f:
        return f.read().count('"event":"reload"')


def reload_registry(b):
    """SIGHUP, then wait for the broker's "reload" log line."""
    before = reload_count(b)
    b.proc.send_signal(signal.SIGHUP)
    wait_for("the broker reloads its registry", lambda: reload_count(b) > before)


def history(b, d, shots):
    add_dashboard(b, "acme", "main", "type=timeseries,bucket=W,fields=temperature,humidity,items=200",
                  "type=gauge,bucket=W,field=temperature,min=0,max=50")
    reload_registry(b)
    c = publisher(b)
    now = int(time.time() * 1000)
    for i in range(60):
        publish(c, "w/d1", {"ts": now - (60 - i) * 1000, "temperature": 20 + (i % 12), "humidity": 50 + i % 7})
    c.loop_stop()
    d.get(f"http://127.0.0.1:{b.http_port}/console/acme/dashboards/main?token={b.ta}")
    count = wait_for("the chart draws the 60 points of the history", lambda: d.execute_script(
        "const w=document.querySelector('[data-widget=timeseries]');"
        "return w&&w._chart?w._chart.data.datasets[0].data.length:0;") >= 60)
    check(count, "no chart")
    check(latest(d, "[data-widget=gauge]") == str(20 + 59 % 12), f"gauge: {latest(d, '[data-widget=gauge]')}")
    check(d.execute_script("return typeof Chart") == "function", "Chart.js is not loaded")
    check(b.ta not in d.current_url, "the token stayed in the address bar")
    shots("history")


def live(b, d, shots):
    add_dashboard(b, "acme", "main", "type=timeseries,bucket=W,fields=temperature",
                  "type=gauge,bucket=W,field=temperature,min=0,max=100")
    reload_registry(b)
    c = publisher(b)
    publish(c, "w/d1", {"temperature": 21})
    d.get(f"http://127.0.0.1:{b.http_port}/console/acme/dashboards/main?token={b.ta}")
    wait_for("the page's live socket opens", lambda: d.execute_script("return document.body.dataset.transport") == "websocket")
    wait_for("the history shows", lambda: latest(d, "[data-widget=gauge]") == "21")
    worst = 0.0
    for value in (77.5, 42.25, 88.5):
        t0 = time.time()
        publish(c, "w/d1", {"temperature": value})
        wait_for(f"the pushed point {value}", lambda: latest(d, "[data-widget=gauge]") == json.dumps(value), timeout=1.0,
                 step=0.01)
        worst = max(worst, time.time() - t0)
    check(d.execute_script("return document.body.dataset.transport") == "websocket", "the page fell back to polling")
    pushed = int(d.execute_script("return document.body.dataset.pushed||'0'"))
    check(pushed >= 3, f"only {pushed} points came over the live socket")
    print(f"live: worst PUBLISH -> page {worst * 1000:.0f} ms over the WebSocket")
    c.loop_stop()
    shots("live")


SCENARIO = {
    "name": "zone-test", "connection": {"host": "127.0.0.1", "port": 1883, "version": "3.1.1"},
    "fleets": [{
        "name": "zones", "count": 1, "device_id": "gh-{index:04}", "account": "acme", "credential": "provisioned",
        "fields": {"setpoint": {"type": "uniform", "min": 19, "max": 23, "decimals": 1}},
        "telemetry": [{"name": "climate", "topic": "{account}/{device}/climate", "period": {"every": "500ms"}, "qos": 1,
                       "payload": {"setpoint": {"ref": "setpoint"},
                                   "temperature": {"type": "random_walk", "min": 5, "max": 40, "step": 0.3, "start": 18,
                                                   "target": {"ref": "setpoint"}, "pull": 0.25, "decimals": 1}}}],
        "commands": [{"name": "setpoint", "topic": "{account}/{device}/cmd/setpoint", "qos": 1,
                      "set": {"setpoint": "{request.value}"},
                      "reply": {"topic": "{account}/{device}/ack", "qos": 1,
                                "payload": {"id": "{request.id}", "ok": True, "setpoint": {"ref": "setpoint"}}}}],
    }],
    "run": {"duration": "60s"},
}


def slider(b, d, shots):
    scenario = os.path.join(b.tmp, "zones.json")
    creds = os.path.join(b.tmp, "zones.credentials.json")
    with open(scenario, "w") as f:
        json.dump(SCENARIO, f)
    b.cli("sim", "--provision", "--registry", b.reg, "--credentials", creds, scenario)
    b.cli("bucket", "add", "acme", "climate", "--registry", b.reg, "--topic", "acme/+/climate")
    b.cli("bucket", "add", "acme", "acks", "--registry", b.reg, "--topic", "acme/+/ack")
    add_dashboard(b, "acme", "zone", "type=slider,topic=acme/gh-0000/cmd/setpoint,key=value,min=10,max=30,bucket=climate,field=setpoint",
                  "type=value,bucket=acks,field=setpoint,title=acknowledged",
                  "type=timeseries,bucket=climate,fields=temperature,setpoint",
                  "type=led,device=gh-0000")
    reload_registry(b)
    sim = subprocess.Popen([b.bin, "sim", "--no-progress", "--credentials", creds, "-h", "127.0.0.1", "-p",
                            str(b.mqtt_port), "--duration", "60s", scenario],
                           stdout=subprocess.DEVNULL, stderr=open(os.path.join(b.tmp, "sim.log"), "w"))
    try:
        d.get(f"http://127.0.0.1:{b.http_port}/console/acme/dashboards/zone?token={b.ta}")
        wait_for("the simulated zone reports", lambda: latest(d, "[data-widget=slider]"), timeout=15)
        wait_for("the LED shows the zone online", lambda: latest(d, "[data-widget=led]") == "online", timeout=5)
        d.execute_script("const i=document.querySelector('[data-widget=slider] input');i.value=27;"
                         "i.dispatchEvent(new Event('change'));")
        wait_for("the command was accepted", lambda: d.execute_script(
            "return document.querySelector('[data-widget=slider]').dataset.sent||null"))
        sent = json.loads(d.execute_script("return document.querySelector('[data-widget=slider]').dataset.sent"))
        check(sent.get("value") == 27, f"the slider sent {sent}")
        wait_for("the device acknowledges setpoint 27", lambda: latest(d, "[data-widget=value]") in ("27", "27.0"), timeout=10)
        wait_for("the device's telemetry follows setpoint 27",
                 lambda: latest(d, "[data-widget=slider]") in ("27", "27.0"), timeout=10)
        shots("slider")
    finally:
        sim.send_signal(signal.SIGINT)
        try:
            sim.wait(15)
        except subprocess.TimeoutExpired:
            sim.kill()
            sim.wait()


def tenancy(b, d, shots):
    add_dashboard(b, "acme", "main", "type=gauge,bucket=W,field=temperature,min=0,max=100")
    add_dashboard(b, "beta", "mine", "type=gauge,bucket=B,field=temperature,min=0,max=100",
                  "type=table,bucket=W,field=temperature")
    reload_registry(b)
    c = publisher(b)
    publish(c, "w/d1", {"temperature": 61.5})
    base = f"http://127.0.0.1:{b.http_port}"
    # beta's token on acme's dashboard: the login page, 403, nothing of acme's.
    d.get(f"{base}/console/acme/dashboards/main?token={b.tb}")
    src = d.page_source
    check("data-widget" not in src and "61.5" not in src and "may not open account" in src, f"403 page: {src[:300]}")
    # beta's own page (its cookie now) gets no point of acme's, neither history nor pushed.
    d.get(f"{base}/console/beta/dashboards/mine?token={b.tb}")
    status = d.execute_script("return fetch('/v1/users/acme/buckets/W/data',{credentials:'same-origin'}).then(r=>r.status)")
    check(status == 403, f"beta's cookie read acme's bucket: HTTP {status}")
    wait_for("beta's live socket opens", lambda: d.execute_script("return document.body.dataset.transport") == "websocket")
    refused = d.execute_async_script("""const done=arguments[arguments.length-1];
        const ws=new WebSocket('ws://'+location.host+'/console/acme/live');let opened=false;
        ws.onopen=()=>{opened=true;};ws.onclose=()=>done(opened?'opened':'refused');setTimeout(()=>done('timeout'),5000);""")
    check(refused == "refused", f"beta's cookie opened acme's live socket: {refused}")
    publish(c, "w/d1", {"temperature": 62.5})
    time.sleep(1.0)
    src = d.page_source
    check("61.5" not in src and "62.5" not in src, "acme's data is in beta's page")
    check(int(d.execute_script("return document.body.dataset.pushed||'0'")) == 0, "beta's page received pushed points")
    check(latest(d, "[data-widget=table]") is None, "beta's table widget shows a bucket of acme")
    c.loop_stop()
    shots("tenancy")


def map_case(b, d, shots):
    b.cli("bucket", "add", "acme", "V", "--registry", b.reg, "--topic", "v/#")
    add_dashboard(b, "acme", "vans", "type=map,bucket=V,field=position,items=50", "type=led,device=d1")
    reload_registry(b)
    c = publisher(b)
    for i in range(20):
        publish(c, "v/d1", {"position": {"lat": round(52.50 + i * 0.001, 4), "lon": round(13.40 + (i % 5) * 0.002, 4)},
                            "speed": 30})
    d.get(f"http://127.0.0.1:{b.http_port}/console/acme/dashboards/vans?token={b.ta}")
    wait_for("the map shows the last position", lambda: latest(d, "[data-widget=map]") == json.dumps(
        {"lat": 52.519, "lon": 13.408}, separators=(",", ":")))
    n = d.execute_script("const p=document.querySelector('[data-widget=map] polyline');"
                         "return p?p.getAttribute('points').split(' ').length:0;")
    check(n == 20, f"the track has {n} positions, expected 20")
    wait_for("the LED shows d1 online", lambda: latest(d, "[data-widget=led]") == "online")
    c.disconnect()
    c.loop_stop()
    wait_for("the LED shows d1 offline with a last-seen time", lambda: latest(d, "[data-widget=led]") == "offline"
             and "last seen" in d.execute_script("return document.querySelector('[data-widget=led] .seen').textContent"),
             timeout=6)
    devices = b.get_json("/v1/users/acme/devices", b.ta)
    d1 = [x for x in devices if x["id"] == "d1"][0]
    check(isinstance(d1["last_seen"], int) and abs(d1["last_seen"] - time.time() * 1000) < 30000, f"devices: {devices}")
    shots("map")


CASES = {"history": history, "live": live, "slider": slider, "tenancy": tenancy, "map": map_case}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--case", required=True, choices=list(CASES))
    parser.add_argument("--artifacts", required=True, help="directory for the PNG screenshots")
    args = parser.parse_args()
    # The deadline raises (rather than kills), so the broker and the browser are stopped.
    def too_slow(signum, frame):
        raise Fail("the case took longer than 150 s")

    signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(150)
    os.makedirs(args.artifacts, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        b = d = None
        try:
            b = Broker(args.bin, tmp)
            d = browser(tmp)

            def shots(name):
                path = os.path.join(args.artifacts, f"dashboard-{name}.png")
                check(d.save_screenshot(path), f"no screenshot written to {path}")
                print(f"screenshot: {path}")

            CASES[args.case](b, d, shots)
        except (Fail, AssertionError, OSError, ValueError, KeyError, WebDriverException) as e:
            print(f"FAIL: dashboard_browser {args.case}: {type(e).__name__}: {e}", file=sys.stderr)
            if d is not None:
                try:
                    path = os.path.join(args.artifacts, f"dashboard-{args.case}-failed.png")
                    d.save_screenshot(path)
                    print(f"screenshot: {path}", file=sys.stderr)
                except WebDriverException:
                    pass
            if b is not None:
                b.stop()
                b.log.flush()
                sys.stderr.write(open(b.log.name).read()[-2000:])
            return 1
        finally:
            if d is not None:
                d.quit()
            if b is not None and b.proc.poll() is None:
                b.stop()
        signal.alarm(0)
        if b.proc.returncode not in (0, -signal.SIGTERM):
            print(f"FAIL: dashboard_browser {args.case}: broker exit {b.proc.returncode}", file=sys.stderr)
            return 1
        print(f"PASS dashboard_browser {args.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
