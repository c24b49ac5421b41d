// The Java half of the legacy suite's mixed scenario: the stock Apache Kafka consumer
// (kafka-clients 4.1.1, Fetch v12+ reading RecordBatch v2) reads back what sarama 1.22.1 wrote
// with its default config (Produce v0, magic-0 message sets, which weir converts on append).
//
// Usage: java -cp 'build/classes:../java/libs/*' LegacyJavaRead BOOTSTRAP TOPIC EXPECTED.tsv
// EXPECTED.tsv: one line per message sarama wrote: partition, offset, key, value.
// Prints one line: "PASS legacy: NAME" or "FAIL legacy: NAME -- detail"; exits 1 on FAIL.

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

public class LegacyJavaRead {
    static final class Check extends RuntimeException {
        Check(String msg) {
            super(msg);
        }
    }

    static void check(boolean cond, String msg) {
        if (!cond) throw new Check(msg);
    }

    public static void main(String[] args) throws Exception {
        String client = System.getenv().getOrDefault("CLIENT_NAME", "legacy");
        String bootstrap = args[0], topic = args[1];
        List<String> lines = Files.readAllLines(Paths.get(args[2]), StandardCharsets.UTF_8);
        // "partition/offset" -> {key, value}
        Map<String, String[]> expected = new HashMap<>();
        TreeSet<Integer> partitions = new TreeSet<>();
        for (String line : lines) {
            if (line.isEmpty()) continue;
            String[] c = line.split("\t", -1);
            expected.put(c[0] + "/" + c[1], new String[] {c[2], c[3]});
            partitions.add(Integer.parseInt(c[0]));
        }
        String name = "Java kafka-clients 4.1.1 KafkaConsumer (assign + seekToBeginning) reads the " + expected.size()
                + " messages sarama 1.22.1 wrote at 0.8.2 (magic 0): each exactly once at its offset, with its key and value";
        String detail = null;
        try {
            run(bootstrap, topic, expected, partitions);
        } catch (Check e) {
            detail = e.getMessage();
        } catch (Exception e) {
            detail = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        if (detail == null) {
            System.out.println("PASS " + client + ": " + name);
        } else {
            System.out.println("FAIL " + client + ": " + name + " -- " + detail.replace('\n', ' '));
        }
        System.out.flush();
        System.exit(detail == null ? 0 : 1);
    }

    static void run(String bootstrap, String topic, Map<String, String[]> expected, TreeSet<Integer> partitions) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "weir-compat-legacy-java");
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
        p.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "200");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int part : partitions) tps.add(new TopicPartition(topic, part));
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<String, Boolean> seen = new HashMap<>();
            long deadline = System.currentTimeMillis() + 20_000;
            while (seen.size() < expected.size()) {
                check(System.currentTimeMillis() < deadline,
                        "read " + seen.size() + " of " + expected.size() + " messages within 20 s");
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    String at = r.partition() + "/" + r.offset();
                    String[] want = expected.get(at);
                    check(want != null, "partition " + r.partition() + " offset " + r.offset()
                            + ": value \"" + r.value() + "\" was not written there by sarama");
                    check(!seen.containsKey(at), "partition " + r.partition() + " offset " + r.offset() + " read twice");
                    check(want[0].equals(r.key()), "at " + at + ": key \"" + r.key() + "\", expected \"" + want[0] + "\"");
                    check(want[1].equals(r.value()), "at " + at + ": value \"" + r.value() + "\", expected \"" + want[1] + "\"");
                    check(!r.headers().iterator().hasNext(), "at " + at + ": headers present, sarama 0.8.2 sent none");
                    seen.put(at, true);
                }
            }
            for (TopicPartition tp : tps) {
                long n = expected.keySet().stream().filter(k -> k.startsWith(tp.partition() + "/")).count();
                long end = consumer.endOffsets(List.of(tp), Duration.ofSeconds(10)).get(tp);
                check(end == n, "partition " + tp.partition() + ": end offset " + end + ", sarama wrote " + n);
            }
        }
    }
}
