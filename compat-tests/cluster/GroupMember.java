// One member of a consumer group, for test_group_failover.py: a stock Apache Kafka Java client
// (kafka-clients 4.1.1, classic group protocol, RangeAssignor) that subscribes to a topic, and
// after every poll that returned records commits their offsets synchronously (commitSync with
// explicit offsets: the last record's offset + 1 per partition).
//
// Usage: java -cp 'build/classes:../java/libs/*' GroupMember BOOTSTRAP TOPIC GROUP NAME EVENTS_FILE MAX_SECONDS
//
// Everything it sees goes to EVENTS_FILE as JSON lines (one object a line, flushed at once; t,
// t0 are epoch milliseconds, wall clock, the same clock the Python side uses):
//   {"ev":"start","t":..,"m":NAME}
//   {"ev":"assign","t":..,"m":..,"ps":[partitions]}      (also "revoke", "lost": ConsumerRebalanceListener)
//   {"ev":"rec","t":..,"m":..,"p":P,"o":OFFSET,"v":"VALUE"}  every record poll() returned, in order
//   {"ev":"commit","t0":..,"t":..,"m":..,"p":P,"c":OFFSET}   one per partition of a commitSync that
//                                                           succeeded (t0: sent, t: returned)
//   {"ev":"commit_fail","t0":..,"t":..,"m":..,"offsets":{"P":OFFSET,..},"err":".."}
//   {"ev":"error","t":..,"m":..,"err":".."}               poll() threw
//   {"ev":"stop","t":..,"m":..}
// It stops when its stdin reaches end of file (the test closes the pipe), or after MAX_SECONDS
// whatever happens (never a process left behind), and closes the consumer (LeaveGroup) with a
// 5 s bound.

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;

public class GroupMember {
    static BufferedWriter out;
    static String name;

    static String q(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            if (ch == '"' || ch == '\\') b.append('\\').append(ch);
            else if (ch < 0x20) b.append(String.format("\\u%04x", (int) ch));
            else b.append(ch);
        }
        return b.append('"').toString();
    }

    static synchronized void event(String ev, String fields) {
        try {
            out.write("{\"ev\":" + q(ev) + ",\"t\":" + System.currentTimeMillis() + ",\"m\":" + q(name)
                    + (fields.isEmpty() ? "" : "," + fields) + "}\n");
            out.flush();
        } catch (IOException e) {
            System.err.println("cannot write the events file: " + e);
            System.exit(3);
        }
    }

    static String parts(Collection<TopicPartition> tps) {
        return tps.stream().map(TopicPartition::partition).sorted().map(String::valueOf).collect(Collectors.joining(",", "[", "]"));
    }

    static String err(Throwable e) {
        StringBuilder sb = new StringBuilder(e.getClass().getSimpleName() + ": " + e.getMessage());
        if (e.getCause() != null && e.getCause() != e) sb.append(" <- ").append(e.getCause().getClass().getSimpleName())
                .append(": ").append(e.getCause().getMessage());
        return sb.toString();
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: GroupMember BOOTSTRAP TOPIC GROUP NAME EVENTS_FILE MAX_SECONDS");
            System.exit(2);
        }
        String bootstrap = args[0], topic = args[1], group = args[2];
        name = args[3];
        out = Files.newBufferedWriter(Path.of(args[4]), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        long deadline = System.currentTimeMillis() + Long.parseLong(args[5]) * 1000;

        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("client.id", name);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, RangeAssignor.class.getName());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "20");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
        p.put("request.timeout.ms", "5000");
        p.put("default.api.timeout.ms", "10000");
        p.put("socket.connection.setup.timeout.ms", "3000");
        p.put("socket.connection.setup.timeout.max.ms", "5000");
        p.put("reconnect.backoff.ms", "50");
        p.put("reconnect.backoff.max.ms", "500");
        p.put("retry.backoff.ms", "100");
        p.put("retry.backoff.max.ms", "500");
        p.put("metadata.max.age.ms", "2000");

        KafkaConsumer<String, String> c = new KafkaConsumer<>(p);
        // The test closes our stdin to stop us: wake the consumer up then.
        Thread stdin = new Thread(() -> {
            try {
                InputStream in = System.in;
                while (in.read() >= 0) {
                    // nothing: only end of file matters
                }
            } catch (IOException e) {
                // treated as end of file
            }
            STOP.set(true);
            c.wakeup();
        });
        stdin.setDaemon(true);
        stdin.start();

        event("start", "\"group\":" + q(group) + ",\"topic\":" + q(topic));
        c.subscribe(List.of(topic), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> tps) {
                event("revoke", "\"ps\":" + parts(tps));
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> tps) {
                event("assign", "\"ps\":" + parts(tps));
            }

            @Override
            public void onPartitionsLost(Collection<TopicPartition> tps) {
                event("lost", "\"ps\":" + parts(tps));
            }
        });
        try {
            while (!STOP.get() && System.currentTimeMillis() < deadline) {
                ConsumerRecords<String, String> recs;
                try {
                    recs = c.poll(Duration.ofMillis(300));
                } catch (WakeupException e) {
                    break;
                } catch (Exception e) {
                    event("error", "\"err\":" + q(err(e)));
                    Thread.sleep(100); // back off after a failed poll (not a wait for a condition)
                    continue;
                }
                if (recs.isEmpty()) continue;
                Map<TopicPartition, OffsetAndMetadata> offsets = new TreeMap<>((a, b) -> Integer.compare(a.partition(), b.partition()));
                for (ConsumerRecord<String, String> r : recs) {
                    event("rec", "\"p\":" + r.partition() + ",\"o\":" + r.offset() + ",\"v\":" + q(r.value()));
                    offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                }
                long t0 = System.currentTimeMillis();
                try {
                    c.commitSync(offsets, Duration.ofSeconds(10));
                    for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet())
                        event("commit", "\"t0\":" + t0 + ",\"p\":" + e.getKey().partition() + ",\"c\":" + e.getValue().offset());
                } catch (WakeupException e) {
                    event("commit_fail", "\"t0\":" + t0 + ",\"offsets\":" + json(offsets) + ",\"err\":\"woken up to stop\"");
                    break;
                } catch (Exception e) {
                    event("commit_fail", "\"t0\":" + t0 + ",\"offsets\":" + json(offsets) + ",\"err\":" + q(err(e)));
                }
            }
        } finally {
            try {
                c.close(Duration.ofSeconds(5));
            } catch (Exception e) {
                event("error", "\"err\":" + q("close: " + err(e)));
            }
            event("stop", "");
            out.close();
        }
        System.exit(0);
    }

    static final AtomicBoolean STOP = new AtomicBoolean(false);

    static String json(Map<TopicPartition, OffsetAndMetadata> offsets) {
        return offsets.entrySet().stream().map(e -> "\"" + e.getKey().partition() + "\":" + e.getValue().offset())
                .collect(Collectors.joining(",", "{", "}"));
    }
}
