// Compatibility scenarios for OLD, unmodified Go clients from Debian bookworm's packages:
// sarama 1.22.1 (golang-github-shopify-sarama-dev, import path github.com/Shopify/sarama) at
// protocol versions 0.8.2 (its default) and 0.10.0, and kafka-go 0.2.1
// (golang-github-segmentio-kafka-go-dev). Built offline in GOPATH mode by run.sh.
//
// Usage:
//
//	legacy-compat sarama BOOTSTRAP                  sarama profiles (sarama_legacy.go)
//	legacy-compat kafka-go BOOTSTRAP                kafka-go Writer and Reader (kafkago.go)
//	legacy-compat mixed-read BOOTSTRAP TOPIC EXP    sarama 0.8.2 and 0.10.0 read what
//	                                                confluent-kafka wrote (mixed.go)
//	legacy-compat sarama-write BOOTSTRAP TOPIC OUT  sarama 0.8.2 writes for the Java
//	                                                consumer, OUT lists what (mixed.go)
//	legacy-compat sarama-groups BOOTSTRAP OM CG     sarama's ListOffsets v0, OffsetManager and
//	                                                ConsumerGroup; OM and CG list what they
//	                                                committed (groups.go)
//
// Prints exactly one line per scenario: "PASS legacy: NAME" or "FAIL legacy: NAME -- detail".
// WEIR_COMPAT_DEBUG=1 prints sarama's own log and kafka-go's reader/writer logs to stderr.
package main

import (
	"fmt"
	"io"
	"log"
	"math/rand"
	"os"
	"strings"
	"time"

	"github.com/Shopify/sarama"
)

var (
	client    = envOr("CLIENT_NAME", "legacy")
	bootstrap []string
	runID     = fmt.Sprintf("%08x", rand.New(rand.NewSource(time.Now().UnixNano())).Uint32())
	failed    = 0
	debug     = os.Getenv("WEIR_COMPAT_DEBUG") == "1"
	// Every scenario of one invocation together: past this, the remaining ones fail as not run.
	runBudget   = 150 * time.Second
	runDeadline = time.Now().Add(runBudget)
)

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// checkFailure is a failed check: its text is the scenario's detail.
type checkFailure string

func check(cond bool, format string, args ...interface{}) {
	if !cond {
		panic(checkFailure(fmt.Sprintf(format, args...)))
	}
}

func must(err error, what string) {
	if err != nil {
		panic(checkFailure(fmt.Sprintf("%s: %s", what, errText(err))))
	}
}

// errText is err's text; io.EOF, which the clients report when the broker closes the
// connection on a request it rejects, says so.
func errText(err error) string {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return err.Error() + " (the broker closed the connection)"
	}
	return err.Error()
}

// scenario runs body under a deadline (at most 45 s) and prints its verdict line.
func scenario(name string, body func()) bool {
	budget := time.Until(runDeadline)
	if budget <= 0 {
		skip(name, fmt.Sprintf("the run's budget of %v is used up", runBudget))
		return false
	}
	if budget > 45*time.Second {
		budget = 45 * time.Second
	}
	done := make(chan string, 1)
	go func() {
		detail := ""
		defer func() {
			if r := recover(); r != nil {
				if cf, ok := r.(checkFailure); ok {
					detail = string(cf)
				} else {
					detail = fmt.Sprintf("panic: %v", r)
				}
			}
			done <- detail
		}()
		body()
	}()
	var detail string
	select {
	case detail = <-done:
	case <-time.After(budget):
		detail = fmt.Sprintf("scenario did not finish within %v", budget.Round(time.Millisecond))
	}
	if detail == "" {
		fmt.Printf("PASS %s: %s\n", client, name)
		return true
	}
	failed++
	fmt.Printf("FAIL %s: %s -- %s\n", client, name, oneLine(detail))
	return false
}

func skip(name, because string) {
	failed++
	fmt.Printf("FAIL %s: %s -- not run: %s\n", client, name, because)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 700 {
		s = s[:700] + "..."
	}
	return s
}

func topicName(s string) string { return "legacy-" + s + "-" + runID }

// createTopic creates a topic with sarama's ClusterAdmin at V1_0_0_0 (CreateTopics v2), which
// weir serves today: topic creation is not what these scenarios test (the old clients have no
// CreateTopics), only the old produce and fetch paths.
func createTopic(topic string, partitions int32) {
	c := sarama.NewConfig()
	c.Version = sarama.V1_0_0_0
	c.ClientID = "weir-compat-legacy-admin"
	c.Admin.Timeout = 10 * time.Second
	c.Net.DialTimeout = 5 * time.Second
	c.Net.ReadTimeout = 15 * time.Second
	a, err := sarama.NewClusterAdmin(bootstrap, c)
	must(err, "NewClusterAdmin (V1_0_0_0, to create the topic)")
	defer a.Close()
	must(a.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}, false),
		"CreateTopic "+topic+" (CreateTopics v2)")
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: legacy-compat sarama|kafka-go|mixed-read|sarama-write|sarama-groups BOOTSTRAP [args]")
		os.Exit(2)
	}
	bootstrap = []string{os.Args[2]}
	if debug {
		sarama.Logger = log.New(os.Stderr, "[sarama] ", log.Lmicroseconds)
	}
	args := os.Args[3:]
	switch os.Args[1] {
	case "sarama":
		runSaramaScenarios()
	case "kafka-go":
		runKafkaGoScenarios()
	case "mixed-read":
		if len(args) != 2 {
			fmt.Fprintln(os.Stderr, "usage: legacy-compat mixed-read BOOTSTRAP TOPIC EXPECTED.tsv")
			os.Exit(2)
		}
		runMixedRead(args[0], args[1])
	case "sarama-write":
		if len(args) != 2 {
			fmt.Fprintln(os.Stderr, "usage: legacy-compat sarama-write BOOTSTRAP TOPIC OUT.tsv")
			os.Exit(2)
		}
		runSaramaWrite(args[0], args[1])
	case "sarama-groups":
		if len(args) != 2 {
			fmt.Fprintln(os.Stderr, "usage: legacy-compat sarama-groups BOOTSTRAP OM.tsv CG.tsv")
			os.Exit(2)
		}
		runSaramaGroups(args[0], args[1])
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if failed > 0 {
		os.Exit(1)
	}
}
