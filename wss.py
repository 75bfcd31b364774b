import sys, ssl, time, queue
import paho.mqtt.client as mqtt
port = int(sys.argv[1])
q = queue.Queue()
def mk(cid):
    c = mqtt.Client(client_id=cid, transport="websockets"); c.ws_set_options(path="/mqtt")
    c.tls_set(cert_reqs=ssl.CERT_NONE); c.tls_insecure_set(True)
    c.connect("127.0.0.1", port, 30); c.loop_start(); return c
s = mk("s"); s.on_message = lambda c,u,m: q.put(m.payload); s.subscribe("x/#", 1); time.sleep(0.5)
p = mk("p")
for i in range(2000): p.publish("x/y", b"m%d" % i, qos=i % 3)
got = [q.get(timeout=20) for _ in range(2000)]
print("wss ok", len(got), got[0], got[-1])
