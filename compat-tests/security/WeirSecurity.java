// SASL and TLS with the stock Apache Kafka Java client (kafka-clients 4.1.1): for PLAIN,
// SCRAM-SHA-256 and SCRAM-SHA-512 over SASL_PLAINTEXT, an idempotent producer (acks=all)
// writes records that a consumer reads back; a wrong password gets
// SaslAuthenticationException. Over SSL (PEM truststore, endpoint identification left at its
// default, https, which the broker certificate's IP SAN must pass), with a PEM keystore
// (mutual TLS) on the listener that requires one, and over SASL_SSL with PLAIN and
// SCRAM-SHA-512: the same round trip. A client trusting another CA, and one without a
// certificate where one is required, get SslAuthenticationException.
//
// Usage: java -cp 'build/classes:../java/libs/*' WeirSecurity SASL_BOOTSTRAP
// The TLS scenarios read SSL_BOOTSTRAP, SASL_SSL_BOOTSTRAP, MTLS_BOOTSTRAP, TLS_CA,
// TLS_OTHER_CA, TLS_CLIENT_KEYSTORE and TLS_CLIENT_KEYSTORE_PASSWORD from the environment
// (run.sh sets them).
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
import org.apache.kafka.common.errors.SslAuthenticationException;
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

    static String env(String name) {
        String v = System.getenv(name);
        if (v == null || v.isEmpty()) throw new IllegalStateException(name + " is not set");
        return v;
    }

    // SSL to bootstrap: the CA's PEM file as the truststore; with a keystore, the client's PEM
    // keystore (its key, encrypted, and certificate in one file: Kafka's file-based PEM
    // keystore takes an encrypted key with ssl.key.password). Endpoint identification is not
    // set: its default, https, checks the dialled 127.0.0.1 against the certificate.
    static Properties tls(String bootstrap, String ca, boolean keystore) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("security.protocol", "SSL");
        p.put("ssl.truststore.type", "PEM");
        p.put("ssl.truststore.location", ca);
        if (keystore) {
            p.put("ssl.keystore.type", "PEM");
            p.put("ssl.keystore.location", env("TLS_CLIENT_KEYSTORE"));
            p.put("ssl.key.password", env("TLS_CLIENT_KEYSTORE_PASSWORD"));
        }
        return p;
    }

    static Properties saslSsl(String mechanism, String user, String password) {
        Properties p = props(mechanism, user, password);
        p.put("bootstrap.servers", env("SASL_SSL_BOOTSTRAP"));
        p.put("security.protocol", "SASL_SSL");
        p.put("ssl.truststore.type", "PEM");
        p.put("ssl.truststore.location", env("TLS_CA"));
        return p;
    }

    static void roundTrip(String mechanism, String user, String password) throws Exception {
        roundTrip(props(mechanism, user, password), mechanism);
    }

    static void roundTrip(Properties base, String label) throws Exception {
        String topic = "sec-java-" + label.toLowerCase() + "-" + System.nanoTime();
        Properties pp = new Properties();
        pp.putAll(base);
        pp.put(ProducerConfig.ACKS_CONFIG, "all");
        pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        pp.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "20000");
        pp.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
        List<String> values = new ArrayList<>();
        try (KafkaProducer<String, String> p = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 40; i++) {
                String v = label + "-" + i;
                values.add(v);
                p.send(new ProducerRecord<>(topic, v)).get(30, TimeUnit.SECONDS);
            }
        }
        Properties cp = new Properties();
        cp.putAll(base);
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

    // A producer with these settings cannot send: SslAuthenticationException, from send() or
    // as the cause of the failed future, within max.block.ms.
    static void sslRefused(Properties base) throws Exception {
        Properties pp = new Properties();
        pp.putAll(base);
        pp.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
        try (KafkaProducer<String, String> p = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
            p.send(new ProducerRecord<>("sec-java-refused", "x")).get(20, TimeUnit.SECONDS);
            throw new AssertionError("the record was delivered");
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof SslAuthenticationException)) throw e;
        } catch (SslAuthenticationException e) {
            // thrown by send() when metadata cannot be fetched for the failed handshake
        }
    }

    interface Body { void run() throws Exception; }

    static void scenario(String name, Body body) {
        try {
            body.run();
            System.out.println("PASS security: " + name);
        } catch (Throwable t) {
            failed++;
            StringBuilder detail = new StringBuilder(t.toString());
            for (Throwable c = t.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
                detail.append("; caused by ").append(c);
            }
            System.out.println("FAIL security: " + name + " -- " + detail.toString().replace('\n', ' '));
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
        scenario("java SSL: idempotent produce and consume, PEM truststore, endpoint identification https",
                () -> roundTrip(tls(env("SSL_BOOTSTRAP"), env("TLS_CA"), false), "ssl"));
        scenario("java SSL: idempotent produce and consume with a PEM keystore (ssl.client.auth=requested)",
                () -> roundTrip(tls(env("SSL_BOOTSTRAP"), env("TLS_CA"), true), "ssl-mtls"));
        scenario("java SSL, ssl.client.auth=required: served with a PEM keystore",
                () -> roundTrip(tls(env("MTLS_BOOTSTRAP"), env("TLS_CA"), true), "mtls-required"));
        scenario("java SSL, ssl.client.auth=required: no keystore gets SslAuthenticationException",
                () -> sslRefused(tls(env("MTLS_BOOTSTRAP"), env("TLS_CA"), false)));
        scenario("java SSL: a truststore of another CA gets SslAuthenticationException",
                () -> sslRefused(tls(env("SSL_BOOTSTRAP"), env("TLS_OTHER_CA"), false)));
        for (String[] u : new String[][] {users[0], users[2]}) {
            scenario("java " + u[0] + ": idempotent produce and consume over SASL_SSL",
                    () -> roundTrip(saslSsl(u[0], u[1], u[2]), "sasl-ssl-" + u[0]));
        }
        System.out.flush();
        Runtime.getRuntime().halt(failed == 0 ? 0 : 1);
    }
}
