import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.PartitionReassignment;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;

/**
 * The reassignment calls of kafka-clients 4.1.1's Admin, as kafka-reassign-partitions.sh makes
 * them (AlterPartitionReassignments, ListPartitionReassignments), for test_replication.py.
 *
 * <pre>
 * Reassign BOOTSTRAP alter TOPIC:PARTITION=B1,B2,... | TOPIC:PARTITION=cancel ...
 *   one line per partition: "OK TOPIC:PARTITION" or "ERR TOPIC:PARTITION ExceptionClass message"
 * Reassign BOOTSTRAP list [TOPIC:PARTITION ...]
 *   one line per move in progress: "MOVE TOPIC:PARTITION replicas adding removing" (comma lists,
 *   "-" for none), then "END"
 * Reassign BOOTSTRAP config topic|broker NAME KEY=VALUE|KEY= ...
 *   incrementalAlterConfigs (SET, or DELETE for an empty value; broker "" is the cluster
 *   default), as kafka-reassign-partitions.sh --throttle and kafka-configs.sh send it:
 *   "OK" or "ERR ExceptionClass message"
 * Reassign BOOTSTRAP describe topic|broker NAME KEY
 *   describeConfigs: "VALUE value source"
 * </pre>
 */
public class Reassign {
    static TopicPartition tp(String s) {
        int i = s.lastIndexOf(':');
        return new TopicPartition(s.substring(0, i), Integer.parseInt(s.substring(i + 1)));
    }

    static String name(TopicPartition tp) {
        return tp.topic() + ":" + tp.partition();
    }

    static String ids(List<Integer> l) {
        return l.isEmpty() ? "-" : l.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    static ConfigResource resource(String type, String name) {
        return new ConfigResource(type.equals("topic") ? ConfigResource.Type.TOPIC : ConfigResource.Type.BROKER, name);
    }

    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 15000);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30000);
        try (Admin admin = Admin.create(p)) {
            switch (args[1]) {
                case "alter": {
                    Map<TopicPartition, Optional<NewPartitionReassignment>> moves = new LinkedHashMap<>();
                    for (int i = 2; i < args.length; i++) {
                        String[] kv = args[i].split("=", 2);
                        if (kv[1].equals("cancel")) {
                            moves.put(tp(kv[0]), Optional.empty());
                        } else {
                            List<Integer> target = new ArrayList<>();
                            for (String b : kv[1].split(",")) target.add(Integer.parseInt(b));
                            moves.put(tp(kv[0]), Optional.of(new NewPartitionReassignment(target)));
                        }
                    }
                    Map<TopicPartition, KafkaFuture<Void>> results = admin.alterPartitionReassignments(moves).values();
                    for (TopicPartition t : moves.keySet()) {
                        try {
                            results.get(t).get();
                            System.out.println("OK " + name(t));
                        } catch (ExecutionException e) {
                            Throwable c = e.getCause();
                            System.out.println("ERR " + name(t) + " " + c.getClass().getSimpleName() + " " + c.getMessage());
                        }
                    }
                    break;
                }
                case "list": {
                    Map<TopicPartition, PartitionReassignment> moves;
                    if (args.length > 2) {
                        java.util.Set<TopicPartition> wanted = new java.util.LinkedHashSet<>();
                        for (int i = 2; i < args.length; i++) wanted.add(tp(args[i]));
                        moves = admin.listPartitionReassignments(wanted).reassignments().get();
                    } else {
                        moves = admin.listPartitionReassignments().reassignments().get();
                    }
                    for (Map.Entry<TopicPartition, PartitionReassignment> e : moves.entrySet()) {
                        PartitionReassignment r = e.getValue();
                        System.out.println("MOVE " + name(e.getKey()) + " " + ids(r.replicas()) + " "
                                + ids(r.addingReplicas()) + " " + ids(r.removingReplicas()));
                    }
                    System.out.println("END");
                    break;
                }
                case "config": {
                    ConfigResource res = resource(args[2], args[3]);
                    List<AlterConfigOp> ops = new ArrayList<>();
                    for (int i = 4; i < args.length; i++) {
                        String[] kv = args[i].split("=", 2);
                        ops.add(kv[1].isEmpty()
                                ? new AlterConfigOp(new ConfigEntry(kv[0], null), AlterConfigOp.OpType.DELETE)
                                : new AlterConfigOp(new ConfigEntry(kv[0], kv[1]), AlterConfigOp.OpType.SET));
                    }
                    try {
                        admin.incrementalAlterConfigs(Map.of(res, ops)).all().get();
                        System.out.println("OK");
                    } catch (ExecutionException e) {
                        Throwable c = e.getCause();
                        System.out.println("ERR " + c.getClass().getSimpleName() + " " + c.getMessage());
                    }
                    break;
                }
                case "describe": {
                    ConfigResource res = resource(args[2], args[3]);
                    Config c = admin.describeConfigs(List.of(res)).all().get().get(res);
                    ConfigEntry e = c.get(args[4]);
                    System.out.println(e == null ? "NONE" : "VALUE " + e.value() + " " + e.source());
                    break;
                }
                default:
                    throw new IllegalArgumentException("unknown command " + args[1]);
            }
        }
    }
}
