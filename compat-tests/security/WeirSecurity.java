// SASL with the stock Apache Kafka Java client (kafka-clients 4.1.1): for PLAIN,
// SCRAM-SHA-256 and SCRAM-SHA-512 over SASL_PLAINTEXT, an idempotent producer (acks=all)
// writes records that a consumer reads back; a wrong password gets
// SaslAuthenticationException.
//
// Usage: java -cp 'build/classes:../java/libs/*' WeirSecurity SASL_BOOTSTRAP
// Prints one line per scenario: "PASS security: NAME" or "FAIL security: NAME -- detail".

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class WeirSecurity {
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

    static void roundTrip(String mechanism, String user, String password) throws Exception {
        String topic = "sec-java-" + mechanism.toLowerCase() + "-" + System.nanoTime();
        Properties pp = props(mechanism, user, password);
        pp.put(ProducerConfig.ACKS_CONFIG, "all");
        pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        pp.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "20000");
        pp.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
        List<String> values = new ArrayList<>();
        try (KafkaProducer<String, String> p = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 40; i++) {
                String v = mechanism + "-" + i;
                values.add(v);
                p.send(new ProducerRecord<>(topic, v)).get(30, TimeUnit.SECONDS);
            }
        }
        Properties cp = props(mechanism, user, password);
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<String> got = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cp, new StringDeserializer(), new StringDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(Collections.singletonList(tp));
            c.seekToBeginning(Collections.singletonList(tp));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (got.size() < values.size() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) got.add(r.value());
            }
        }
        if (!got.equals(values)) throw new AssertionError("consumed " + got.size() + " of " + values.size());
    }

    static void wrongPassword(String mechanism, String user) throws Exception {
        Properties pp = props(mechanism, user, "wrong");
        pp.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
        try (KafkaProducer<String, String> p = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
            p.send(new ProducerRecord<>("sec-java-refused", "x")).get(20, TimeUnit.SECONDS);
            throw new AssertionError("a wrong password produced");
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof SaslAuthenticationException)) throw e;
        } catch (SaslAuthenticationException e) {
            // thrown by send() when metadata cannot be fetched for lack of authentication
        }
    }

    interface Body { void run() throws Exception; }

    static void scenario(String name, Body body) {
        try {
            body.run();
            System.out.println("PASS security: " + name);
        } catch (Throwable t) {
            failed++;
            System.out.println("FAIL security: " + name + " -- " + t.toString().replace('\n', ' '));
        }
    }

    public static void main(String[] args) {
        boot = args[0];
        String[][] users = {
            {"PLAIN", "alice", "alice-secret"},
            {"SCRAM-SHA-256", "bob", "bob-secret"},
            {"SCRAM-SHA-512", "admin", "admin-secret"},
        };
        for (String[] u : users) {
            scenario("java " + u[0] + ": idempotent produce and consume over SASL_PLAINTEXT", () -> roundTrip(u[0], u[1], u[2]));
        }
        for (String[] u : users) {
            scenario("java " + u[0] + ": a wrong password gets SaslAuthenticationException", () -> wrongPassword(u[0], u[1]));
        }
        System.out.flush();
        Runtime.getRuntime().halt(failed == 0 ? 0 : 1);
    }
}
