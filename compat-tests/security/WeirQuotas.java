// Client quotas with the stock Apache Kafka Java client (kafka-clients 4.1.1) against weir:
// - what kafka-configs.sh --entity-type users|clients --alter/--describe sends: the Admin's
//   alterClientQuotas sets quotas per client id, per user, per user and client id and on the
//   default entities; describeClientQuotas reads them back (exact match, default entity,
//   any entity of a type, containsOnly, ClientQuotaFilter.all()); a removal (value null)
//   removes; validateOnly writes nothing; producer_byte_rate=0, a fractional byte rate and an
//   unknown key fail with InvalidRequestException;
// - producer_byte_rate: two producers at once, client.id `throttled` under 1 MB/s and `free`
//   without a quota; the throttled one is held near 1 MB/s, the free one runs several times
//   faster; produce-throttle-time-max > 0 only for `throttled`;
// - consumer_byte_rate: two consumers read the same topic at once, `slow-consumer` under
//   512 KB/s and `fast-consumer` without; the slow one is held near its rate,
//   fetch-throttle-time-max > 0 only for it;
// - a user's quota over SASL_PLAINTEXT: user alice's producer is throttled, bob's not.
//
// Usage: java -cp 'classes:../java/libs/*' WeirQuotas PLAIN_BOOTSTRAP SASL_BOOTSTRAP
// Prints one line per scenario: "PASS security: NAME" or "FAIL security: NAME -- detail",
// and "INFO security: ..." lines with the measured rates.

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterClientQuotasOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.quota.ClientQuotaFilterComponent;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class WeirQuotas {
    static String plain;
    static String sasl;
    static int failed = 0;

    static final String PRODUCER_BYTE_RATE = "producer_byte_rate";
    static final String CONSUMER_BYTE_RATE = "consumer_byte_rate";
    static final String REQUEST_PERCENTAGE = "request_percentage";
    static final double MB = 1024 * 1024;
    // The quotas the rate scenarios run under (set by the Admin scenario, which must pass
    // first).
    static final double PRODUCE_QUOTA = 1048576;
    static final double FETCH_QUOTA = 524288;
    static final int RECORD = 10 * 1024;

    static void info(String line) {
        System.out.println("INFO security: " + line);
        System.out.flush();
    }

    // ---------------------------------------------------------------- Admin

    static Admin admin() {
        Properties p = new Properties();
        p.put("bootstrap.servers", plain);
        p.put("request.timeout.ms", "15000");
        p.put("default.api.timeout.ms", "30000");
        return Admin.create(p);
    }

    // An entity of (type, name) pairs; a null name is the default entity of the type.
    static ClientQuotaEntity entity(String... typeName) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < typeName.length; i += 2) m.put(typeName[i], typeName[i + 1]);
        return new ClientQuotaEntity(m);
    }

    static Map<String, Double> values(Object... keyValue) {
        Map<String, Double> m = new HashMap<>();
        for (int i = 0; i < keyValue.length; i += 2) m.put((String) keyValue[i], ((Number) keyValue[i + 1]).doubleValue());
        return m;
    }

    static ClientQuotaAlteration alteration(ClientQuotaEntity e, Object... keyValue) {
        List<ClientQuotaAlteration.Op> ops = new ArrayList<>();
        for (int i = 0; i < keyValue.length; i += 2) {
            Object v = keyValue[i + 1];
            ops.add(new ClientQuotaAlteration.Op((String) keyValue[i], v == null ? null : ((Number) v).doubleValue()));
        }
        return new ClientQuotaAlteration(e, ops);
    }

    static void alter(Admin a, ClientQuotaAlteration... alterations) throws Exception {
        a.alterClientQuotas(Arrays.asList(alterations)).all().get(30, TimeUnit.SECONDS);
    }

    static Map<ClientQuotaEntity, Map<String, Double>> describe(Admin a, ClientQuotaFilter f) throws Exception {
        return a.describeClientQuotas(f).entities().get(30, TimeUnit.SECONDS);
    }

    static void expect(String what, Object want, Object got) {
        if (!want.equals(got)) throw new AssertionError(what + ": want " + want + ", got " + got);
    }

    // The alteration must fail with InvalidRequestException (and write nothing).
    static void refused(Admin a, String what, ClientQuotaAlteration alteration) throws Exception {
        try {
            alter(a, alteration);
            throw new AssertionError(what + " was accepted");
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof InvalidRequestException)) {
                throw new AssertionError(what + ": want InvalidRequestException, got " + e.getCause());
            }
        }
    }

    static void adminScenario() throws Exception {
        ClientQuotaEntity throttled = entity(ClientQuotaEntity.CLIENT_ID, "throttled");
        ClientQuotaEntity slowConsumer = entity(ClientQuotaEntity.CLIENT_ID, "slow-consumer");
        ClientQuotaEntity alice = entity(ClientQuotaEntity.USER, "alice");
        ClientQuotaEntity aliceApp = entity(ClientQuotaEntity.USER, "alice", ClientQuotaEntity.CLIENT_ID, "alice-app");
        ClientQuotaEntity defaultClient = entity(ClientQuotaEntity.CLIENT_ID, null);
        ClientQuotaEntity defaultUser = entity(ClientQuotaEntity.USER, null);
        try (Admin a = admin()) {
            // kafka-configs.sh --alter --entity-type clients --entity-name throttled
            //   --add-config producer_byte_rate=1048576, and so on, in one request.
            alter(a,
                    alteration(throttled, PRODUCER_BYTE_RATE, PRODUCE_QUOTA),
                    alteration(slowConsumer, CONSUMER_BYTE_RATE, FETCH_QUOTA),
                    alteration(alice, CONSUMER_BYTE_RATE, 2097152, REQUEST_PERCENTAGE, 12.5),
                    alteration(aliceApp, PRODUCER_BYTE_RATE, 4194304),
                    alteration(defaultClient, CONSUMER_BYTE_RATE, 1e9),
                    alteration(defaultUser, PRODUCER_BYTE_RATE, 2e9));
            // kafka-configs.sh --describe --entity-type clients --entity-name throttled.
            expect("exact client-id throttled",
                    Map.of(throttled, values(PRODUCER_BYTE_RATE, PRODUCE_QUOTA)),
                    describe(a, ClientQuotaFilter.containsOnly(List.of(
                            ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.CLIENT_ID, "throttled")))));
            // --entity-type users --entity-name alice: alice alone (strict), and with her
            // client ids (not strict).
            expect("exact user alice, strict",
                    Map.of(alice, values(CONSUMER_BYTE_RATE, 2097152, REQUEST_PERCENTAGE, 12.5)),
                    describe(a, ClientQuotaFilter.containsOnly(List.of(
                            ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, "alice")))));
            expect("exact user alice, not strict",
                    Map.of(alice, values(CONSUMER_BYTE_RATE, 2097152, REQUEST_PERCENTAGE, 12.5),
                            aliceApp, values(PRODUCER_BYTE_RATE, 4194304)),
                    describe(a, ClientQuotaFilter.contains(List.of(
                            ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, "alice")))));
            expect("user alice and client-id alice-app",
                    Map.of(aliceApp, values(PRODUCER_BYTE_RATE, 4194304)),
                    describe(a, ClientQuotaFilter.containsOnly(List.of(
                            ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, "alice"),
                            ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.CLIENT_ID, "alice-app")))));
            // --entity-type clients --entity-default.
            expect("default client-id",
                    Map.of(defaultClient, values(CONSUMER_BYTE_RATE, 1e9)),
                    describe(a, ClientQuotaFilter.containsOnly(List.of(
                            ClientQuotaFilterComponent.ofDefaultEntity(ClientQuotaEntity.CLIENT_ID)))));
            expect("default user",
                    Map.of(defaultUser, values(PRODUCER_BYTE_RATE, 2e9)),
                    describe(a, ClientQuotaFilter.containsOnly(List.of(
                            ClientQuotaFilterComponent.ofDefaultEntity(ClientQuotaEntity.USER)))));
            // --describe --entity-type clients: every client-id entity alone.
            expect("any client-id, strict",
                    Map.of(throttled, values(PRODUCER_BYTE_RATE, PRODUCE_QUOTA),
                            slowConsumer, values(CONSUMER_BYTE_RATE, FETCH_QUOTA),
                            defaultClient, values(CONSUMER_BYTE_RATE, 1e9)),
                    describe(a, ClientQuotaFilter.containsOnly(List.of(
                            ClientQuotaFilterComponent.ofEntityType(ClientQuotaEntity.CLIENT_ID)))));
            Map<ClientQuotaEntity, Map<String, Double>> all = new HashMap<>();
            all.put(throttled, values(PRODUCER_BYTE_RATE, PRODUCE_QUOTA));
            all.put(slowConsumer, values(CONSUMER_BYTE_RATE, FETCH_QUOTA));
            all.put(alice, values(CONSUMER_BYTE_RATE, 2097152, REQUEST_PERCENTAGE, 12.5));
            all.put(aliceApp, values(PRODUCER_BYTE_RATE, 4194304));
            all.put(defaultClient, values(CONSUMER_BYTE_RATE, 1e9));
            all.put(defaultUser, values(PRODUCER_BYTE_RATE, 2e9));
            expect("ClientQuotaFilter.all()", all, describe(a, ClientQuotaFilter.all()));

            // Refused, each with InvalidRequestException, nothing written.
            refused(a, "producer_byte_rate=0", alteration(entity(ClientQuotaEntity.CLIENT_ID, "zero"), PRODUCER_BYTE_RATE, 0));
            refused(a, "an unknown key", alteration(entity(ClientQuotaEntity.CLIENT_ID, "bogus"), "bogus_byte_rate", 100));
            refused(a, "a fractional consumer_byte_rate", alteration(entity(ClientQuotaEntity.CLIENT_ID, "frac"), CONSUMER_BYTE_RATE, 1.5));
            refused(a, "a negative request_percentage", alteration(alice, REQUEST_PERCENTAGE, -1));
            // validateOnly (kafka-configs.sh has no such flag; the Admin has): writes nothing.
            a.alterClientQuotas(List.of(alteration(entity(ClientQuotaEntity.CLIENT_ID, "dry-run"), PRODUCER_BYTE_RATE, 1000)),
                    new AlterClientQuotasOptions().validateOnly(true)).all().get(30, TimeUnit.SECONDS);
            expect("after the refusals and validateOnly", all, describe(a, ClientQuotaFilter.all()));

            // --delete-config: a removed key goes; an entity with no key left is gone.
            alter(a, alteration(alice, REQUEST_PERCENTAGE, null));
            expect("user alice after removing request_percentage",
                    Map.of(alice, values(CONSUMER_BYTE_RATE, 2097152)),
                    describe(a, ClientQuotaFilter.containsOnly(List.of(
                            ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, "alice")))));
            // The defaults hold for every client: removed before the rate scenarios.
            alter(a,
                    alteration(alice, CONSUMER_BYTE_RATE, null),
                    alteration(aliceApp, PRODUCER_BYTE_RATE, null),
                    alteration(defaultClient, CONSUMER_BYTE_RATE, null),
                    alteration(defaultUser, PRODUCER_BYTE_RATE, null));
            expect("user alice after removing all her keys", Map.of(),
                    describe(a, ClientQuotaFilter.contains(List.of(
                            ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, "alice")))));
            expect("ClientQuotaFilter.all() after the removals",
                    Map.of(throttled, values(PRODUCER_BYTE_RATE, PRODUCE_QUOTA),
                            slowConsumer, values(CONSUMER_BYTE_RATE, FETCH_QUOTA)),
                    describe(a, ClientQuotaFilter.all()));
        }
    }

    static void createTopic(String topic) throws Exception {
        try (Admin a = admin()) {
            a.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
    }

    // ---------------------------------------------------------------- measurements
    //
    // How Kafka's quotas (KIP-219, weir's too) shape a greedy client's traffic: the rate is
    // the bytes of the last 11 one-second windows over their span, never less than 10 s. A
    // client starting at t0 may so send 10 s of its quota at once (the burst); then every
    // further request is over, and is throttled for the excess / quota, so it only trickles.
    // When the window of the burst expires, between t0 + 10 s and t0 + 11 s, the rate drops
    // and the client sends about 10 s of quota again (the refill), and so on every ~11 s.
    // Over 10 s the bytes are therefore not spread evenly, and the rate of a 10 s stretch
    // depends on how many refills it holds. The stretch measured here, [t0 + 9 s, t0 + 19 s)
    // after the client's first byte, holds exactly one (the next is at t0 + 21 s or later):
    // about 10 s of quota plus the trickle, so about the quota, 1.0-1.2x in trial runs. The
    // bounds, 0.5x-1.6x, leave room for the trickle and the refill's timing, and still catch
    // a quota not enforced (the free client's rate), enforced over a wrong span (a 1 s span
    // would allow a tenth of it, an unexpired window none of the refill) or throttles that do
    // not end.
    static final double WINDOW_FROM_S = 9;
    static final double WINDOW_TO_S = 19;

    // Bytes acknowledged (or consumed) per 100 ms since a common start.
    static class Timeline {
        final long start;
        final AtomicLongArray buckets;
        final AtomicLong first = new AtomicLong(-1);

        Timeline(long start, int seconds) {
            this.start = start;
            this.buckets = new AtomicLongArray(seconds * 10);
        }

        void add(long bytes) {
            if (bytes <= 0) return;
            long now = System.nanoTime();
            first.compareAndSet(-1, now);
            int i = (int) ((now - start) / 100_000_000L);
            if (i >= 0 && i < buckets.length()) buckets.addAndGet(i, bytes);
        }

        // Seconds from the start to the first byte (NaN if none).
        double firstS() {
            long f = first.get();
            return f < 0 ? Double.NaN : (f - start) / 1e9;
        }

        // Bytes in [fromS, toS), seconds since the start, to the 100 ms.
        long bytes(double fromS, double toS) {
            long sum = 0;
            for (int i = (int) Math.round(fromS * 10); i < Math.round(toS * 10) && i < buckets.length(); i++) sum += buckets.get(i);
            return sum;
        }

        double rate(double fromS, double toS) {
            return bytes(fromS, toS) / (toS - fromS);
        }

        // MB per whole second, for the report.
        String perSecond(double toS) {
            StringBuilder sb = new StringBuilder();
            for (int s = 0; s < Math.ceil(toS); s++) sb.append(String.format("%s%.1f", s == 0 ? "" : " ", bytes(s, s + 1) / MB));
            return sb.toString();
        }
    }

    static double metric(Map<MetricName, ? extends Metric> metrics, String group, String name) {
        for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
            if (e.getKey().group().equals(group) && e.getKey().name().equals(name)) {
                return ((Number) e.getValue().metricValue()).doubleValue();
            }
        }
        throw new AssertionError("no metric " + group + "/" + name);
    }

    static String mbps(double bytesPerSecond) {
        return String.format("%.2f MB/s", bytesPerSecond / MB);
    }

    static void join(long limitS, Thread... threads) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(limitS);
        for (Thread t : threads) t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        for (Thread t : threads) if (t.isAlive()) throw new AssertionError(t.getName() + " did not stop within " + limitS + " s");
    }

    // ---------------------------------------------------------------- producers

    // acks=1, one 10 KB record per request (batch.size 16 KB, linger 0), one request in
    // flight: as fast as the round trips go, ~40 MB/s for the free producer here. Bigger
    // batches and more in flight reach ~300 MB/s, several GB of log in a run, for no more
    // proof.
    static Properties producerProps(String bootstrap, String clientId) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ProducerConfig.ACKS_CONFIG, "1");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, "16384");
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        // A small buffer: a throttled producer blocks in send() instead of queueing seconds
        // of records.
        p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, "1048576");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "2000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
        return p;
    }

    // Sends 10 KB records as fast as send() takes them until `stopAt` (nanoTime; it may move
    // while running), counting the acknowledged bytes in `acked`. Answers the producer's
    // produce-throttle-time-avg and -max, read before it closes.
    static double[] produceUntil(Properties props, String topic, AtomicLong stopAt, Timeline acked, AtomicReference<Throwable> error) {
        byte[] value = new byte[RECORD];
        new Random(42).nextBytes(value);
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            while (System.nanoTime() < stopAt.get()) {
                try {
                    p.send(new ProducerRecord<>(topic, value), (md, e) -> {
                        if (e == null) acked.add(RECORD);
                        // Failures once the run is over are close(ZERO) dropping what is
                        // still buffered.
                        else if (System.nanoTime() < stopAt.get()) error.compareAndSet(null, e);
                    });
                } catch (org.apache.kafka.common.errors.TimeoutException e) {
                    // The buffer stayed full for max.block.ms (a throttled producer): again.
                }
            }
            double avg = metric(p.metrics(), "producer-metrics", "produce-throttle-time-avg");
            double max = metric(p.metrics(), "producer-metrics", "produce-throttle-time-max");
            // What is still buffered is not waited for.
            p.close(Duration.ZERO);
            return new double[] {avg, max};
        }
    }

    static void producerScenario() throws Exception {
        createTopic("quota-throttled");
        createTopic("quota-free");
        long start = System.nanoTime();
        // Until 19 s after the throttled producer's first acknowledged byte (set then),
        // at most 60 s.
        AtomicLong stopAt = new AtomicLong(start + TimeUnit.SECONDS.toNanos(60));
        Timeline throttledAcks = new Timeline(start, 80) {
            @Override
            void add(long bytes) {
                if (first.get() < 0) stopAt.set(System.nanoTime() + TimeUnit.SECONDS.toNanos((long) WINDOW_TO_S));
                super.add(bytes);
            }
        };
        Timeline freeAcks = new Timeline(start, 80);
        AtomicReference<Throwable> error = new AtomicReference<>();
        double[][] metrics = new double[2][];
        Thread t1 = new Thread(() -> {
            try { metrics[0] = produceUntil(producerProps(plain, "throttled"), "quota-throttled", stopAt, throttledAcks, error); }
            catch (Throwable t) { error.compareAndSet(null, t); }
        }, "producer throttled");
        Thread t2 = new Thread(() -> {
            try { metrics[1] = produceUntil(producerProps(plain, "free"), "quota-free", stopAt, freeAcks, error); }
            catch (Throwable t) { error.compareAndSet(null, t); }
        }, "producer free");
        t1.start();
        t2.start();
        join(90, t1, t2);
        if (error.get() != null) throw new AssertionError("a producer failed", error.get());
        double t0 = throttledAcks.firstS();
        if (Double.isNaN(t0)) throw new AssertionError("the throttled producer got no acknowledgement in 60 s");
        double from = t0 + WINDOW_FROM_S, to = t0 + WINDOW_TO_S;
        info("producer throttled, MB acknowledged per second: " + throttledAcks.perSecond(to));
        info("producer free, MB acknowledged per second: " + freeAcks.perSecond(to));
        double throttledRate = throttledAcks.rate(from, to);
        double freeRate = freeAcks.rate(from, to);
        info(String.format("producer rates over [%.1f s, %.1f s): throttled %s, free %s; "
                        + "produce-throttle-time avg/max: throttled %.0f/%.0f ms, free %.0f/%.0f ms",
                from, to, mbps(throttledRate), mbps(freeRate),
                metrics[0][0], metrics[0][1], metrics[1][0], metrics[1][1]));
        List<String> wrong = new ArrayList<>();
        if (throttledRate < 0.5 * PRODUCE_QUOTA || throttledRate > 1.6 * PRODUCE_QUOTA) {
            wrong.add("throttled at " + mbps(throttledRate) + ", not within 0.5-1.6 MB/s");
        }
        // Three times the quota at least: ~40 MB/s here, alongside the throttled one.
        if (freeRate < 3 * PRODUCE_QUOTA) wrong.add("free at only " + mbps(freeRate));
        if (!(metrics[0][1] > 0)) wrong.add("throttled's produce-throttle-time-max is " + metrics[0][1]);
        if (metrics[1][1] != 0) wrong.add("free's produce-throttle-time-max is " + metrics[1][1]);
        if (!wrong.isEmpty()) throw new AssertionError(String.join("; ", wrong));
    }

    // ---------------------------------------------------------------- consumers

    // Writes `bytes` of 10 KB records to `topic` (client.id loader, no quota).
    static void load(String topic, long bytes) throws Exception {
        Properties p = producerProps(plain, "loader");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, "33554432");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        byte[] value = new byte[RECORD];
        new Random(7).nextBytes(value);
        try (KafkaProducer<byte[], byte[]> pr = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (long n = 0; n < bytes; n += RECORD) sent.add(pr.send(new ProducerRecord<>(topic, value)));
            pr.flush();
            for (java.util.concurrent.Future<?> f : sent) f.get(30, TimeUnit.SECONDS);
        }
    }

    // Reads `topic` from the beginning until `total` value bytes or `stopAt` (nanoTime; it
    // may move while running), counting them in `read`. Answers fetch-throttle-time-avg and
    // -max, when it had read everything (nanoTime, or 0), and the bytes read.
    static double[] consume(String clientId, String topic, long total, AtomicLong stopAt, Timeline read) {
        Properties p = new Properties();
        p.put("bootstrap.servers", plain);
        p.put("client.id", clientId);
        p.put("enable.auto.commit", "false");
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long got = 0;
            long done = 0;
            while (got < total && System.nanoTime() < stopAt.get()) {
                long n = 0;
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) n += r.value().length;
                read.add(n);
                got += n;
            }
            if (got >= total) done = System.nanoTime();
            return new double[] {
                metric(c.metrics(), "consumer-fetch-manager-metrics", "fetch-throttle-time-avg"),
                metric(c.metrics(), "consumer-fetch-manager-metrics", "fetch-throttle-time-max"),
                done, got,
            };
        }
    }

    // A topic of 14 MB: more than the slow consumer may read by t0 + 19 s (its burst and one
    // refill, 2 x 5 MB), so it reads throughout the measured stretch.
    static void consumerScenario() throws Exception {
        String topic = "quota-fetch";
        int topicMb = 14;
        long total = (long) topicMb * 1024 * 1024 / RECORD * RECORD;
        createTopic(topic);
        load(topic, total);
        long start = System.nanoTime();
        AtomicLong stopAt = new AtomicLong(start + TimeUnit.SECONDS.toNanos(60));
        Timeline slow = new Timeline(start, 80) {
            @Override
            void add(long bytes) {
                if (bytes > 0 && first.get() < 0) stopAt.set(System.nanoTime() + TimeUnit.SECONDS.toNanos((long) WINDOW_TO_S));
                super.add(bytes);
            }
        };
        Timeline fast = new Timeline(start, 80);
        double[][] out = new double[2][];
        AtomicReference<Throwable> error = new AtomicReference<>();
        Thread t1 = new Thread(() -> {
            try { out[0] = consume("slow-consumer", topic, total, stopAt, slow); } catch (Throwable t) { error.compareAndSet(null, t); }
        }, "consumer slow-consumer");
        Thread t2 = new Thread(() -> {
            try { out[1] = consume("fast-consumer", topic, total, stopAt, fast); } catch (Throwable t) { error.compareAndSet(null, t); }
        }, "consumer fast-consumer");
        t1.start();
        t2.start();
        join(90, t1, t2);
        if (error.get() != null) throw new AssertionError("a consumer failed", error.get());
        double t0 = slow.firstS();
        if (Double.isNaN(t0)) throw new AssertionError("slow-consumer read nothing in 60 s");
        double from = t0 + WINDOW_FROM_S, to = t0 + WINDOW_TO_S;
        info("consumer slow-consumer, MB read per second: " + slow.perSecond(to));
        info("consumer fast-consumer, MB read per second: " + fast.perSecond(to));
        double slowRate = slow.rate(from, to);
        // The fast one's rate: the topic over the time it took from its first record.
        double fastS = out[1][2] > 0 ? (out[1][2] - start) / 1e9 - fast.firstS() : Double.NaN;
        double fastRate = total / fastS;
        info(String.format("consumer rates: slow-consumer %s over [%.1f s, %.1f s) (read %.1f of %d MB), fast-consumer read "
                        + "all %d MB in %.2f s (%s); fetch-throttle-time avg/max: slow %.0f/%.0f ms, fast %.0f/%.0f ms",
                mbps(slowRate), from, to, out[0][3] / MB, topicMb, topicMb, fastS, mbps(fastRate),
                out[0][0], out[0][1], out[1][0], out[1][1]));
        List<String> wrong = new ArrayList<>();
        if (slowRate < 0.5 * FETCH_QUOTA || slowRate > 1.6 * FETCH_QUOTA) {
            wrong.add("slow-consumer at " + mbps(slowRate) + ", not within 0.25-0.8 MB/s");
        }
        if (out[1][2] == 0) wrong.add("fast-consumer read only " + out[1][3] + " of " + total + " bytes");
        else if (fastRate < 6 * FETCH_QUOTA) wrong.add("fast-consumer at only " + mbps(fastRate));
        if (!(out[0][1] > 0)) wrong.add("slow-consumer's fetch-throttle-time-max is " + out[0][1]);
        if (out[1][1] != 0) wrong.add("fast-consumer's fetch-throttle-time-max is " + out[1][1]);
        if (!wrong.isEmpty()) throw new AssertionError(String.join("; ", wrong));
    }

    // ---------------------------------------------------------------- a user's quota

    static Properties saslProducer(String mechanism, String user, String password, String clientId) {
        Properties p = producerProps(sasl, clientId);
        p.put("security.protocol", "SASL_PLAINTEXT");
        p.put("sasl.mechanism", mechanism);
        String module = mechanism.equals("PLAIN")
                ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
        p.put("sasl.jaas.config", module + " required username=\"" + user + "\" password=\"" + password + "\";");
        return p;
    }

    // Produces `bytes` (acks=1) and answers produce-throttle-time-max.
    static double produceBytes(Properties props, String topic, long bytes) throws Exception {
        byte[] value = new byte[RECORD];
        new Random(1).nextBytes(value);
        props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, "33554432");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (long n = 0; n < bytes; n += RECORD) sent.add(p.send(new ProducerRecord<>(topic, value)));
            for (java.util.concurrent.Future<?> f : sent) f.get(60, TimeUnit.SECONDS);
            return metric(p.metrics(), "producer-metrics", "produce-throttle-time-max");
        }
    }

    // producer_byte_rate=102400 on user alice (PLAIN over SASL_PLAINTEXT): 10 s of it is
    // 1 MB, so 1.5 MB from alice's producer (whatever its client id) is throttled; bob's
    // (SCRAM-SHA-256) 1.5 MB is not. The quota is removed afterwards.
    static void userScenario() throws Exception {
        ClientQuotaEntity alice = entity(ClientQuotaEntity.USER, "alice");
        createTopic("quota-users");
        try (Admin a = admin()) {
            alter(a, alteration(alice, PRODUCER_BYTE_RATE, 102400));
            try {
                double aliceMax = produceBytes(saslProducer("PLAIN", "alice", "alice-secret", "any-client"), "quota-users", 1536 * 1024);
                double bobMax = produceBytes(saslProducer("SCRAM-SHA-256", "bob", "bob-secret", "any-client"), "quota-users", 1536 * 1024);
                info(String.format("user quota: produce-throttle-time-max alice %.0f ms, bob %.0f ms", aliceMax, bobMax));
                if (!(aliceMax > 0)) throw new AssertionError("alice was not throttled (produce-throttle-time-max " + aliceMax + ")");
                if (bobMax != 0) throw new AssertionError("bob was throttled (produce-throttle-time-max " + bobMax + ")");
            } finally {
                alter(a, alteration(alice, PRODUCER_BYTE_RATE, null));
            }
        }
    }

    // ---------------------------------------------------------------- main

    interface Body { void run() throws Exception; }

    static boolean scenario(String name, Body body) {
        try {
            body.run();
            System.out.println("PASS security: " + name);
            System.out.flush();
            return true;
        } catch (Throwable t) {
            failed++;
            StringBuilder detail = new StringBuilder(t.toString());
            for (Throwable c = t.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
                detail.append("; caused by ").append(c);
            }
            System.out.println("FAIL security: " + name + " -- " + detail.toString().replace('\n', ' '));
            System.out.flush();
            return false;
        }
    }

    public static void main(String[] args) {
        plain = args[0];
        sasl = args[1];
        boolean set = scenario("java Admin: alterClientQuotas and describeClientQuotas (client-id, user, both, defaults; "
                + "exact, default, any, all(); removal; invalid ones get InvalidRequestException)", WeirQuotas::adminScenario);
        // The rate scenarios run under the quotas the Admin scenario sets.
        Body needsQuotas = () -> { if (!set) throw new AssertionError("not run: the Admin scenario did not set the quotas"); };
        scenario("java producers: client.id throttled held near its 1 MB/s producer_byte_rate while client.id free runs "
                + "at full speed; produce-throttle-time-max > 0 only for throttled",
                () -> { needsQuotas.run(); producerScenario(); });
        scenario("java consumers: client.id slow-consumer held near its 512 KB/s consumer_byte_rate while "
                + "fast-consumer reads the same topic at full speed; fetch-throttle-time-max > 0 only for slow-consumer",
                () -> { needsQuotas.run(); consumerScenario(); });
        scenario("java SASL_PLAINTEXT: a producer_byte_rate on user alice throttles her producer, not bob's",
                WeirQuotas::userScenario);
        System.out.flush();
        Runtime.getRuntime().halt(failed == 0 ? 0 : 1);
    }
}
