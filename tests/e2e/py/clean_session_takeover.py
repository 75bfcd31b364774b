#!/usr/bin/python3
"""A clean session never comes back: a 3.1.1 CleanSession=1 (or v5 Session Expiry 0)
connection taken over by a Clean Start=0 connection with the same client id gets CONNACK
session present 0 and none of the old subscriptions [MQTT-3.1.2-6], [MQTT-3.2.2-2]."""

from mqtt_e2e import Raw, check, run, topic


def scenario(args):
    for version in (4, 5):
        t = topic(f"clean-takeover-v{version}")
        name = f"clean-takeover-v{version}"
        old = Raw(args, version).connect(name, clean=True)  # v5: no Session Expiry = 0
        check(old.subscribe(1, [(t, 1)]) == [1], "SUBACK for the old subscription")
        new = Raw(args, version).connect(name, clean=False)
        check(not new.session_present,
              f"v{version}: the takeover of a clean session says session present 1")
        publisher = Raw(args, version).connect(f"{name}-pub")
        publisher.publish(t, "after takeover", qos=0)
        new.expect_no_publish(1.0)
        publisher.disconnect()
        new.disconnect()
        old.close()


if __name__ == "__main__":
    run(__doc__, scenario)
