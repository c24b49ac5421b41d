// ACLs and SCRAM credentials with the stock Apache Kafka Java Admin (kafka-clients 4.1.1)
// against a weir broker with authorizer.class.name=...StandardAuthorizer and
// super.users=User:admin, over SASL_PLAINTEXT:
// - what kafka-acls.sh sends: --add (createAcls), --list (describeAcls, all and per topic),
//   --remove (deleteAcls); a non-super user is refused (ClusterAuthorizationException);
// - what kafka-configs.sh --entity-type users sends: alterUserScramCredentials (upsert,
//   delete), describeUserScramCredentials; the new SCRAM user then logs in and produces;
//   once deleted, it can no longer log in;
// - at the end it leaves the ACLs test_acls.py needs: bob may Write, Read and Describe the
//   topic acl-orders and Read the group acl-ok (not acl-denied); nobody but admin may see
//   acl-secret.
//
// With --disabled PLAINTEXT_BOOTSTRAP (a broker without an authorizer): the ACL calls fail
// with SecurityDisabledException, so kafka-acls.sh reports security disabled.
//
// Usage: java -cp 'classes:../java/libs/*' WeirAcls SASL_BOOTSTRAP
//        java -cp 'classes:../java/libs/*' WeirAcls --disabled PLAINTEXT_BOOTSTRAP
// Prints one line per scenario: "PASS security-acls: NAME" or "FAIL security-acls: NAME -- detail".

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.admin.UserScramCredentialsDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SecurityDisabledException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringSerializer;

public class WeirAcls {
    static String boot;
    static int failed = 0;

    interface Body { void run() throws Exception; }

    static void scenario(String name, Body body) {
        try {
            body.run();
            System.out.println("PASS security-acls: " + name);
        } catch (Throwable t) {
            failed++;
            String d = String.valueOf(t).replace('\n', ' ');
            System.out.println("FAIL security-acls: " + name + " -- " + d);
        }
        System.out.flush();
    }

    static Properties props(String mechanism, String user, String password) {
        Properties p = new Properties();
        p.put("bootstrap.servers", boot);
        p.put("security.protocol", "SASL_PLAINTEXT");
        p.put("sasl.mechanism", mechanism);
        String module = mechanism.equals("PLAIN")
                ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
        p.put("sasl.jaas.config", module + " required username=\"" + user + "\" password=\"" + password + "\";");
        p.put("request.timeout.ms", "15000");
        p.put("default.api.timeout.ms", "20000");
        return p;
    }

    static Admin admin(String mechanism, String user, String password) {
        return Admin.create(props(mechanism, user, password));
    }

    static AclBinding allow(ResourceType type, String name, PatternType pattern, String principal, AclOperation op) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry(principal, "*", op, AclPermissionType.ALLOW));
    }

    static Set<AclBinding> list(Admin a, AclBindingFilter f) throws Exception {
        return new HashSet<>(a.describeAcls(f).values().get(20, TimeUnit.SECONDS));
    }

    static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    static Throwable cause(Exception e) {
        return e instanceof ExecutionException ? e.getCause() : e;
    }

    static void disabled(String plaintextBoot) {
        Properties p = new Properties();
        p.put("bootstrap.servers", plaintextBoot);
        p.put("request.timeout.ms", "15000");
        p.put("default.api.timeout.ms", "20000");
        try (Admin a = Admin.create(p)) {
            scenario("without an authorizer, describeAcls and createAcls: SecurityDisabledException", () -> {
                for (int i = 0; i < 2; i++) {
                    try {
                        if (i == 0) a.describeAcls(AclBindingFilter.ANY).values().get(20, TimeUnit.SECONDS);
                        else a.createAcls(List.of(allow(ResourceType.TOPIC, "t", PatternType.LITERAL, "User:x",
                                AclOperation.READ))).all().get(20, TimeUnit.SECONDS);
                        throw new AssertionError("call " + i + " succeeded");
                    } catch (ExecutionException e) {
                        check(e.getCause() instanceof SecurityDisabledException, "got " + e.getCause());
                    }
                }
            });
        }
        System.exit(failed == 0 ? 0 : 1);
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("--disabled")) disabled(args[1]);
        boot = args[0];
        try (Admin admin = admin("SCRAM-SHA-512", "admin", "admin-secret")) {
            scenario("Java Admin (super user over SCRAM-SHA-512): create the topics", () -> {
                admin.createTopics(List.of(new NewTopic("acl-orders", 1, (short) 1),
                        new NewTopic("acl-secret", 1, (short) 1), new NewTopic("acl-carol", 1, (short) 1)))
                        .all().get(30, TimeUnit.SECONDS);
            });

            List<AclBinding> bobs = List.of(
                    allow(ResourceType.TOPIC, "acl-orders", PatternType.LITERAL, "User:bob", AclOperation.WRITE),
                    allow(ResourceType.TOPIC, "acl-orders", PatternType.LITERAL, "User:bob", AclOperation.READ),
                    allow(ResourceType.TOPIC, "acl-orders", PatternType.LITERAL, "User:bob", AclOperation.DESCRIBE),
                    allow(ResourceType.GROUP, "acl-ok", PatternType.LITERAL, "User:bob", AclOperation.READ));
            AclBinding temp = allow(ResourceType.TOPIC, "tmp-", PatternType.PREFIXED, "User:alice", AclOperation.ALL);
            AclBinding carolWrite = allow(ResourceType.TOPIC, "acl-carol", PatternType.LITERAL, "User:carol", AclOperation.WRITE);

            scenario("kafka-acls.sh --add (createAcls): LITERAL and PREFIXED bindings", () -> {
                List<AclBinding> all = new ArrayList<>(bobs);
                all.add(temp);
                all.add(carolWrite);
                admin.createAcls(all).all().get(30, TimeUnit.SECONDS);
            });

            scenario("kafka-acls.sh --list (describeAcls ANY) lists exactly what was added", () -> {
                Set<AclBinding> got = list(admin, AclBindingFilter.ANY);
                Set<AclBinding> want = new HashSet<>(bobs);
                want.add(temp);
                want.add(carolWrite);
                check(got.equals(want), "listed " + got);
            });

            scenario("kafka-acls.sh --list --topic acl-orders (a resource filter)", () -> {
                AclBindingFilter f = new AclBindingFilter(
                        new ResourcePatternFilter(ResourceType.TOPIC, "acl-orders", PatternType.LITERAL),
                        AccessControlEntryFilter.ANY);
                Set<AclBinding> got = list(admin, f);
                check(got.size() == 3 && got.stream().allMatch(b -> b.entry().principal().equals("User:bob")),
                        "listed " + got);
                // MATCH finds the PREFIXED binding that covers a name.
                AclBindingFilter m = new AclBindingFilter(
                        new ResourcePatternFilter(ResourceType.TOPIC, "tmp-x", PatternType.MATCH),
                        AccessControlEntryFilter.ANY);
                check(list(admin, m).equals(Set.of(temp)), "MATCH tmp-x");
            });

            scenario("kafka-acls.sh --remove (deleteAcls) removes what the filter matches", () -> {
                AclBindingFilter f = new AclBindingFilter(
                        new ResourcePatternFilter(ResourceType.TOPIC, "tmp-", PatternType.PREFIXED),
                        AccessControlEntryFilter.ANY);
                Collection<AclBinding> gone = admin.deleteAcls(List.of(f)).all().get(30, TimeUnit.SECONDS);
                check(gone.size() == 1 && gone.contains(temp), "deleted " + gone);
                check(!list(admin, AclBindingFilter.ANY).contains(temp), "still listed");
            });

            scenario("createAcls refuses an invalid binding (InvalidRequestException)", () -> {
                AclBinding bad = allow(ResourceType.CLUSTER, "not-the-cluster", PatternType.LITERAL, "User:x", AclOperation.ALTER);
                try {
                    admin.createAcls(List.of(bad)).all().get(30, TimeUnit.SECONDS);
                    throw new AssertionError("created");
                } catch (ExecutionException e) {
                    check(e.getCause() instanceof org.apache.kafka.common.errors.InvalidRequestException, "got " + e.getCause());
                }
            });

            scenario("a user without Describe on the cluster is refused (ClusterAuthorizationException)", () -> {
                try (Admin alice = admin("PLAIN", "alice", "alice-secret")) {
                    alice.describeAcls(AclBindingFilter.ANY).values().get(20, TimeUnit.SECONDS);
                    throw new AssertionError("described");
                } catch (ExecutionException e) {
                    check(e.getCause() instanceof ClusterAuthorizationException, "got " + e.getCause());
                }
            });

            scenario("alterUserScramCredentials adds carol; describeUserScramCredentials shows SCRAM-SHA-512/8192", () -> {
                admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion("carol",
                        new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), "carol-secret")))
                        .all().get(30, TimeUnit.SECONDS);
                Map<String, UserScramCredentialsDescription> d =
                        admin.describeUserScramCredentials(List.of("carol")).all().get(20, TimeUnit.SECONDS);
                List<ScramCredentialInfo> infos = d.get("carol").credentialInfos();
                check(infos.size() == 1 && infos.get(0).mechanism() == ScramMechanism.SCRAM_SHA_512
                        && infos.get(0).iterations() == 8192, "described " + infos);
            });

            scenario("the new SCRAM user logs in and produces where an ACL lets it", () -> {
                Properties pp = props("SCRAM-SHA-512", "carol", "carol-secret");
                pp.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "20000");
                try (KafkaProducer<String, String> p = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
                    p.send(new ProducerRecord<>("acl-carol", "hello")).get(30, TimeUnit.SECONDS);
                }
            });

            scenario("describeUserScramCredentials of an unknown user: ResourceNotFoundException", () -> {
                try {
                    admin.describeUserScramCredentials(List.of("nobody")).description("nobody").get(20, TimeUnit.SECONDS);
                    throw new AssertionError("described");
                } catch (ExecutionException e) {
                    check(e.getCause() instanceof ResourceNotFoundException, "got " + e.getCause());
                }
            });

            scenario("deleting carol's credential: described no more, and her login fails", () -> {
                admin.alterUserScramCredentials(List.of(new UserScramCredentialDeletion("carol", ScramMechanism.SCRAM_SHA_512)))
                        .all().get(30, TimeUnit.SECONDS);
                check(!admin.describeUserScramCredentials().all().get(20, TimeUnit.SECONDS).containsKey("carol"),
                        "carol still described");
                Properties pp = props("SCRAM-SHA-512", "carol", "carol-secret");
                pp.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
                try (KafkaProducer<String, String> p = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
                    p.send(new ProducerRecord<>("acl-carol", "x")).get(20, TimeUnit.SECONDS);
                    throw new AssertionError("produced after deletion");
                } catch (ExecutionException e) {
                    check(e.getCause() instanceof SaslAuthenticationException, "got " + e.getCause());
                } catch (SaslAuthenticationException e) {
                    // thrown by send() itself while fetching metadata: as wanted
                }
            });
        }
        System.exit(failed == 0 ? 0 : 1);
    }
}
