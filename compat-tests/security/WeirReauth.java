// Re-authentication (KIP-368) with the stock Apache Kafka Java client (kafka-clients 4.1.1)
// against a broker with connections.max.reauth.ms=2000 on its SASL_PLAINTEXT listener: for
// PLAIN and SCRAM-SHA-512, a producer writes for about seven seconds (several session
// lifetimes) over connections it keeps, and a consumer reads every record back. The client's
// own metrics say it re-authenticated (successful-reauthentication-total > 0) and never failed
// to (failed-reauthentication-total == 0), and no acknowledged record is missing.
//
// Usage: java -cp 'build/classes:../java/libs/*' WeirReauth BOOTSTRAP
// Prints one line per scenario: "PASS security: NAME" or "FAIL security: NAME -- detail".

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class WeirReauth {
    static String boot;
    static int failed = 0;

    static Properties props(String mechanism, String user, String password) {
        Properties p = new Properties();
        p.put("bootstrap.servers", boot);
        p.put("security.protocol", "SASL_PLAINTEXT");
        p.put("sasl.mechanism", mechanism);
        String module = mechanism.equals("PLAIN")
                ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
        p.put("sasl.jaas.config", module + " required username=\"" + user + "\" password=\"" + password + "\";");
        return p;
    }

    static double metric(Map<MetricName, ? extends Metric> metrics, String name) {
        double total = 0;
        for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
            if (e.getKey().name().equals(name) && e.getKey().group().endsWith("-metrics")
                    && !e.getKey().tags().containsKey("node-id")) {
                Object v = e.getValue().metricValue();
                if (v instanceof Double) total += (Double) v;
            }
        }
        return total;
    }

    static void scenario(String name, String mechanism, String user, String password) {
        String topic = "reauth-" + mechanism.toLowerCase() + "-" + System.nanoTime();
        try {
            Properties pp = props(mechanism, user, password);
            pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            pp.put(ProducerConfig.ACKS_CONFIG, "all");
            List<String> sent = new ArrayList<>();
            double reauths, reauthFailures;
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(7);
                int i = 0;
                while (System.nanoTime() < end) {
                    String v = "r-" + i++;
                    Future<RecordMetadata> f = producer.send(new ProducerRecord<>(topic, 0, null, v));
                    f.get(30, TimeUnit.SECONDS);
                    sent.add(v);
                    Thread.sleep(20);
                }
                reauths = metric(producer.metrics(), "successful-reauthentication-total");
                reauthFailures = metric(producer.metrics(), "failed-reauthentication-total");
            }
            if (reauths < 1) throw new AssertionError("the producer never re-authenticated (successful-reauthentication-total " + reauths + ")");
            if (reauthFailures > 0) throw new AssertionError("failed-reauthentication-total " + reauthFailures);

            Properties cp = props(mechanism, user, password);
            cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            List<String> got = new ArrayList<>();
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
                TopicPartition tp = new TopicPartition(topic, 0);
                consumer.assign(Collections.singletonList(tp));
                consumer.seekToBeginning(Collections.singletonList(tp));
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (got.size() < sent.size() && System.nanoTime() < end) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) got.add(r.value());
                }
            }
            if (!got.equals(sent)) throw new AssertionError("read back " + got.size() + " of " + sent.size() + " acknowledged records");
            System.out.println("PASS security: " + name + " -- " + sent.size() + " records over 7 s, "
                    + (long) reauths + " re-authentications");
        } catch (Throwable t) {
            failed++;
            System.out.println("FAIL security: " + name + " -- " + t);
        }
    }

    public static void main(String[] args) {
        boot = args[0];
        scenario("java: PLAIN sessions of 2 s are renewed by re-authentication (KIP-368) while producing",
                "PLAIN", "alice", "alice-secret");
        scenario("java: SCRAM-SHA-512 sessions of 2 s are renewed by re-authentication while producing",
                "SCRAM-SHA-512", "admin", "admin-secret");
        System.exit(failed == 0 ? 0 : 1);
    }
}
