#!/usr/bin/env python3
"""The librdkafka half of the fault test's writers (confluent-kafka 2.16, librdkafka 2.16).

An idempotent producer (enable.idempotence=true, hence acks=all), otherwise librdkafka's default
settings, writes unique values <prefix>-<n> (n = 0, 1, 2, ...; the key is the value, so they
spread over the partitions) at about `rate` per second until the file <out>.stop appears, then
flushes for up to 180 s (what is still unreported then is counted in the DONE line; it is not
acknowledged, so the checks treat it as any failed message: it may be in the log, at most once).

Every delivery report is one line of <out>: `ACK <value> <partition> <offset> <unix time>` or
`ERR <value> <error>`. The last line is `DONE sent=<n> unreported=<n>`. A fatal producer error
(librdkafka's idempotence guard) is recorded as `FATAL <error>` and ends the writes.

Usage: producer.py BOOTSTRAP TOPIC OUT PREFIX RATE
"""
import os
import sys
import time

from confluent_kafka import KafkaError, Producer


def main():
    bootstrap, topic, out, prefix, rate = sys.argv[1:6]
    rate = int(rate)
    stop = out + ".stop"
    w = open(out, "w", buffering=1)  # line-buffered: each report is on disk as it comes
    fatal = []

    def on_error(err):
        if err.fatal():
            fatal.append(err)
            w.write(f"FATAL {err}\n")

    def report(err, msg):
        v = msg.value().decode()
        if err is None:
            # librdkafka reports no offset (None) for some acknowledgements: -1 then.
            offset = msg.offset()
            w.write(f"ACK {v} {msg.partition()} {-1 if offset is None else offset} {time.time():.3f}\n")
        else:
            w.write(f"ERR {v} {err.name()}: {err.str()}\n")

    conf = {"bootstrap.servers": bootstrap, "enable.idempotence": True, "client.id": "faults-librdkafka",
            "broker.address.family": "v4", "error_cb": on_error}
    if os.environ.get("FAULT_RDKAFKA_DEBUG"):  # e.g. eos,msg,broker: librdkafka's debug log on stderr
        conf["debug"] = os.environ["FAULT_RDKAFKA_DEBUG"]
    p = Producer(conf)
    sent, start = 0, time.monotonic()
    while not os.path.exists(stop) and not fatal:
        due = start + sent / rate
        now = time.monotonic()
        if now < due:
            p.poll(min(due - now, 0.1))  # serves delivery reports while pacing
            continue
        v = f"{prefix}-{sent:08d}"
        try:
            p.produce(topic, key=v.encode(), value=v.encode(), on_delivery=report)
        except BufferError:
            p.poll(0.1)
            continue
        except Exception as e:  # noqa: BLE001 - e.g. a fatal error raised by produce(): recorded, writes end
            w.write(f"FATAL produce: {e}\n")
            break
        sent += 1
        p.poll(0)
    left = p.flush(180)
    w.write(f"DONE sent={sent} unreported={left}\n")
    w.close()
    print(f"producer.py {prefix}: sent {sent}, unreported after flush {left}, fatal {[str(e) for e in fatal]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
