import java.io.BufferedWriter;
import java.io.FileWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The Java half of the fault test's writers: the stock KafkaProducer (kafka-clients 4.1.1),
 * idempotent with acks=all and otherwise default settings, writes unique values
 * {@code <prefix>-<n>} (n = 0, 1, 2, ...; the key is the value, so they spread over the
 * partitions) at about {@code rate} per second until the file {@code <out>.stop} appears,
 * then flushes and closes.
 *
 * <p>Every delivery report is one line of {@code <out>}, written from the callback:
 * {@code ACK <value> <partition> <offset> <unix time>} or {@code ERR <value> <exception class>: <message>}.
 * The last line is {@code DONE sent=<n>}. Exit status 0 unless the program itself failed.
 *
 * <p>Usage: FaultProducer BOOTSTRAP TOPIC OUT PREFIX RATE
 */
public final class FaultProducer {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0], topic = args[1], out = args[2], prefix = args[3];
        int rate = Integer.parseInt(args[4]);
        Path stop = Path.of(out + ".stop");
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "faults-java");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        AtomicLong acked = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long sent = 0;
        try (BufferedWriter w = new BufferedWriter(new FileWriter(out));
             KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            long start = System.nanoTime();
            while (!Files.exists(stop)) {
                // Paced: value n leaves no earlier than n/rate seconds after the start.
                long due = start + sent * 1_000_000_000L / rate;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    continue;
                }
                String value = String.format("%s-%08d", prefix, sent);
                producer.send(new ProducerRecord<>(topic, value, value), (md, e) -> {
                    String line = e == null
                            ? "ACK " + value + " " + md.partition() + " " + md.offset() + " " + System.currentTimeMillis() / 1000.0
                            : "ERR " + value + " " + e.getClass().getSimpleName() + ": " + e.getMessage();
                    synchronized (w) {
                        try {
                            w.write(line);
                            w.newLine();
                            w.flush();
                        } catch (IOException io) {
                            throw new RuntimeException(io);
                        }
                    }
                    (e == null ? acked : failed).incrementAndGet();
                });
                sent++;
            }
            producer.flush();
            producer.close();
            synchronized (w) {
                w.write("DONE sent=" + sent);
                w.newLine();
                w.flush();
            }
        }
        System.out.println("FaultProducer " + prefix + ": sent " + sent + ", acknowledged " + acked.get()
                + ", failed " + failed.get());
    }
}
