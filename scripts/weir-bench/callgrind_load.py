# Fixed workload for instruction counts (see docs/benchmarks.md): 20,000 x 1 KiB records
# produced and fetched back with confluent-kafka. Usage: python callgrind_load.py HOST:PORT
import sys
from confluent_kafka import Producer, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
b = sys.argv[1]
admin = AdminClient({"bootstrap.servers": b})
admin.create_topics([NewTopic("cg", 1, 1)])["cg"].result(60)
p = Producer({"bootstrap.servers": b, "acks": 1, "linger.ms": 20, "enable.idempotence": False, "batch.size": 1000000})
v = bytes(range(256)) * 4
for i in range(20000):
    while True:
        try:
            p.produce("cg", value=v); break
        except BufferError:
            p.poll(0.05)
assert p.flush(120) == 0
c = Consumer({"bootstrap.servers": b, "group.id": "x", "enable.auto.commit": False})
c.assign([TopicPartition("cg", 0, 0)])
n = 0
while n < 20000:
    for m in c.consume(1000, 5):
        if not m.error(): n += 1
c.close()
print("ok", n)
