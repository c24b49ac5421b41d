// Consumer-group scenarios for sarama 1.22.1, run by main() after the other scenarios.
//
// With Config.Version V2_2_0_0 sarama's ConsumerGroup sends FindCoordinator v0, JoinGroup v1,
// SyncGroup v0, Heartbeat v0, LeaveGroup v0, OffsetFetch v1 and OffsetCommit v1; its
// ClusterAdmin sends DescribeGroups v0, ListGroups v0 and OffsetFetch v1. run.sh starts this
// broker with group.initial.rebalance.delay.ms=0, so a second member's join rebalances a group
// whose first member already holds every partition (the Java suite covers Kafka's 3 s default).
//
// sarama 1.22's ConsumerGroup.Consume returns at every rebalance; each member calls it in a loop.
package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

func groupName(s string) string { return "sarama-group-" + s + "-" + runID }

func groupConfig(clientID string) *sarama.Config {
	c := newConfig()
	c.ClientID = clientID
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.Offsets.CommitInterval = 200 * time.Millisecond
	c.Consumer.Group.Session.Timeout = 10 * time.Second
	// Frequent heartbeats: a member learns of a rebalance within half a second.
	c.Consumer.Group.Heartbeat.Interval = 500 * time.Millisecond
	c.Consumer.Group.Rebalance.Timeout = 10 * time.Second
	c.Consumer.Group.Rebalance.Retry.Backoff = 250 * time.Millisecond
	return c
}

// member is one ConsumerGroup consuming in its own goroutine, recording what it sees.
type member struct {
	name   string
	group  sarama.ConsumerGroup
	cancel context.CancelFunc
	done   chan struct{}

	mu         sync.Mutex
	msgs       []*sarama.ConsumerMessage
	claims     map[string][]int32 // of the running session; nil between sessions
	generation int32
	memberID   string
	sessions   int
	initial    map[int32]int64 // claim.InitialOffset() of the latest session, by partition
	errs       []string
}

func (m *member) Setup(s sarama.ConsumerGroupSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.claims = s.Claims()
	m.generation = s.GenerationID()
	m.memberID = s.MemberID()
	m.sessions++
	m.initial = map[int32]int64{}
	return nil
}

func (m *member) Cleanup(sarama.ConsumerGroupSession) error {
	m.mu.Lock()
	m.claims = nil
	m.mu.Unlock()
	return nil
}

func (m *member) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	m.mu.Lock()
	m.initial[c.Partition()] = c.InitialOffset()
	m.mu.Unlock()
	for msg := range c.Messages() {
		m.mu.Lock()
		m.msgs = append(m.msgs, msg)
		m.mu.Unlock()
		s.MarkMessage(msg, "")
	}
	return nil
}

func (m *member) addErr(e error) {
	m.mu.Lock()
	if len(m.errs) < 5 {
		m.errs = append(m.errs, e.Error())
	}
	m.mu.Unlock()
}

// state is a one-line summary for failure details.
func (m *member) state() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fmt.Sprintf("%s{gen %d, claims %v, %d sessions, %d messages, initial offsets %v, errors %v}",
		m.name, m.generation, m.claims, m.sessions, len(m.msgs), m.initial, m.errs)
}

// partitions of the running session for topic (sorted), nil between sessions.
func (m *member) claimed(topic string) []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.claims == nil {
		return nil
	}
	ps := append([]int32(nil), m.claims[topic]...)
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	return ps
}

// byPartition returns the offsets read per partition, failing on a message read twice.
func (m *member) byPartition() map[int32][]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[int32][]int64{}
	seen := map[string]bool{}
	for _, msg := range m.msgs {
		k := fmt.Sprintf("%d/%d", msg.Partition, msg.Offset)
		check(!seen[k], "%s read partition %d offset %d twice", m.name, msg.Partition, msg.Offset)
		seen[k] = true
		out[msg.Partition] = append(out[msg.Partition], msg.Offset)
	}
	for _, offs := range out {
		sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
	}
	return out
}

func startMember(name, groupID, topic string) *member {
	g, err := sarama.NewConsumerGroup(bootstrap, groupID, groupConfig("weir-compat-sarama-"+name))
	must(err, "NewConsumerGroup "+name)
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{name: name, group: g, cancel: cancel, done: make(chan struct{})}
	go func() {
		for e := range g.Errors() {
			m.addErr(e)
		}
	}()
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{topic}, m); err != nil {
				m.addErr(err)
				if err == sarama.ErrClosedConsumerGroup {
					return
				}
				select { // retry backoff after a failed join
				case <-ctx.Done():
					return
				case <-time.After(250 * time.Millisecond):
				}
			}
		}
	}()
	return m
}

// stop ends the session (its last offset commit included) and closes the group (LeaveGroup).
func (m *member) stop() {
	if m.cancel == nil {
		return
	}
	m.cancel()
	m.cancel = nil
	select {
	case <-m.done:
	case <-time.After(20 * time.Second):
		check(false, "%s: Consume did not return within 20 s of cancelling its context", m.name)
	}
	must(m.group.Close(), m.name+": ConsumerGroup.Close")
}

// stopQuietly is the cleanup: stop without failing.
func (m *member) stopQuietly() {
	defer func() { _ = recover() }()
	m.stop()
}

// waitFor polls cond every 50 ms until it holds or the deadline passes.
func waitFor(what string, timeout time.Duration, cond func() bool, state func() string) {
	end := time.Now().Add(timeout)
	for !cond() {
		check(time.Now().Before(end), "%s not reached within %v; %s", what, timeout, state())
		time.Sleep(50 * time.Millisecond) // polling interval, bounded by the deadline
	}
}

// produceCounts sends counts[p] messages to each partition p, checking they land at first[p]...
func produceCounts(topic string, counts, first []int64, tag string) {
	cl, err := sarama.NewClient(bootstrap, newConfig())
	must(err, "NewClient")
	defer cl.Close()
	p, err := sarama.NewSyncProducerFromClient(cl)
	must(err, "NewSyncProducerFromClient")
	defer p.Close()
	var batch []*sarama.ProducerMessage
	for part := range counts {
		for i := int64(0); i < counts[part]; i++ {
			batch = append(batch, &sarama.ProducerMessage{Topic: topic, Partition: int32(part),
				Value: sarama.StringEncoder(fmt.Sprintf("%s-%d-%d", tag, part, i))})
		}
	}
	must(p.SendMessages(batch), "SendMessages")
	next := append([]int64(nil), first...)
	for _, msg := range batch {
		check(msg.Offset == next[msg.Partition], "produced to partition %d at offset %d, expected %d",
			msg.Partition, msg.Offset, next[msg.Partition])
		next[msg.Partition]++
	}
}

// committedOffsets returns the group's committed offsets (OffsetFetch v1) for partitions 0..n-1.
func committedOffsets(group, topic string, n int) []int64 {
	a := newAdmin()
	defer a.Close()
	var ps []int32
	for p := 0; p < n; p++ {
		ps = append(ps, int32(p))
	}
	resp, err := a.ListConsumerGroupOffsets(group, map[string][]int32{topic: ps})
	must(err, "ListConsumerGroupOffsets")
	out := make([]int64, n)
	for p := 0; p < n; p++ {
		b := resp.GetBlock(topic, int32(p))
		check(b != nil, "ListConsumerGroupOffsets: no block for partition %d", p)
		check(b.Err == sarama.ErrNoError, "ListConsumerGroupOffsets: partition %d error %v", p, b.Err)
		out[p] = b.Offset
	}
	return out
}

func waitCommitted(group, topic string, want []int64) {
	var last []int64
	waitFor(fmt.Sprintf("committed offsets %v", want), 10*time.Second, func() bool {
		last = committedOffsets(group, topic, len(want))
		return fmt.Sprint(last) == fmt.Sprint(want)
	}, func() string { return fmt.Sprintf("last committed %v", last) })
}

func contiguous(from, to int64) []int64 {
	var out []int64
	for o := from; o < to; o++ {
		out = append(out, o)
	}
	return out
}

func runGroupScenarios() {
	// ---- One member: consume everything, commit; a second run resumes from the commits.
	topic := topicName("group")
	group := groupName("resume")
	counts := []int64{5, 6, 7}
	consumed := scenario("ConsumerGroup (JoinGroup v1, SyncGroup v0, Heartbeat v0) consumes all messages of 3 partitions and commits them (OffsetCommit v1)", func() {
		createTopic(topic, 3)
		produceCounts(topic, counts, []int64{0, 0, 0}, "first")
		m := startMember("a", group, topic)
		defer m.stopQuietly()
		waitFor("reading 18 messages", 30*time.Second, func() bool {
			m.mu.Lock()
			defer m.mu.Unlock()
			return len(m.msgs) >= 18
		}, m.state)
		got := m.byPartition()
		for p, n := range counts {
			check(fmt.Sprint(got[int32(p)]) == fmt.Sprint(contiguous(0, n)), "partition %d: read offsets %v, expected 0..%d",
				p, got[int32(p)], n-1)
		}
		check(fmt.Sprint(m.claimed(topic)) == "[0 1 2]", "claims %v, expected all 3 partitions", m.claimed(topic))
		waitCommitted(group, topic, counts)

		a := newAdmin()
		defer a.Close()
		groups, err := a.ListConsumerGroups()
		must(err, "ListConsumerGroups (ListGroups v0)")
		check(groups[group] == "consumer", "ListConsumerGroups: group %s has protocol type %q (listed %d groups)", group, groups[group], len(groups))
		ds, err := a.DescribeConsumerGroups([]string{group})
		must(err, "DescribeConsumerGroups (DescribeGroups v0)")
		check(len(ds) == 1, "DescribeConsumerGroups returned %d groups", len(ds))
		check(ds[0].Err == sarama.ErrNoError, "DescribeConsumerGroups: error %v", ds[0].Err)
		d := ds[0]
		check(d.State == "Stable" && d.ProtocolType == "consumer" && d.Protocol == "range",
			"DescribeConsumerGroups: state %q protocol type %q protocol %q", d.State, d.ProtocolType, d.Protocol)
		check(len(d.Members) == 1, "DescribeConsumerGroups: %d members", len(d.Members))
		for id, md := range d.Members {
			check(id == m.memberID, "DescribeConsumerGroups: member %s, the session has %s", id, m.memberID)
			as, err := md.GetMemberAssignment()
			must(err, "decoding the described member assignment")
			check(fmt.Sprint(as.Topics[topic]) == "[0 1 2]", "described assignment %v", as.Topics)
			check(md.ClientId == "weir-compat-sarama-a", "described client id %q", md.ClientId)
		}

		m.stop()
		got2 := committedOffsets(group, topic, 3)
		check(fmt.Sprint(got2) == fmt.Sprint(counts), "committed after Close %v, expected %v", got2, counts)
		ds, err = a.DescribeConsumerGroups([]string{group})
		must(err, "DescribeConsumerGroups after Close")
		check(len(ds) == 1, "DescribeConsumerGroups after Close returned %d groups", len(ds))
		check(ds[0].State == "Empty" && len(ds[0].Members) == 0,
			"after Close (LeaveGroup v0): state %q with %d members, expected Empty", ds[0].State, len(ds[0].Members))
	})
	if consumed {
		scenario("ConsumerGroup second run of the same group resumes from the committed offsets (OffsetFetch v1): only new messages", func() {
			more := []int64{2, 0, 3}
			produceCounts(topic, more, counts, "second")
			m := startMember("b", group, topic)
			defer m.stopQuietly()
			// Wait for the last new offset of partitions 0 and 2, and for all 3 claims to start.
			waitFor("reading the new messages", 30*time.Second, func() bool {
				got := map[int32]int64{}
				m.mu.Lock()
				defer m.mu.Unlock()
				for _, msg := range m.msgs {
					if msg.Offset > got[msg.Partition] {
						got[msg.Partition] = msg.Offset
					}
				}
				return got[0] == 6 && got[2] == 9 && len(m.initial) == 3
			}, m.state)
			m.mu.Lock()
			initial := fmt.Sprint(m.initial)
			m.mu.Unlock()
			check(initial == fmt.Sprint(map[int32]int64{0: 5, 1: 6, 2: 7}),
				"claims started at offsets %s, expected the committed map[0:5 1:6 2:7]", initial)
			got := m.byPartition()
			want := map[int32][]int64{0: {5, 6}, 2: {7, 8, 9}}
			check(fmt.Sprint(got) == fmt.Sprint(want), "second run read offsets %v, expected only the new ones %v", got, want)
			waitCommitted(group, topic, []int64{7, 6, 10})
			m.stop()
		})
	} else {
		skip("ConsumerGroup second run of the same group resumes from the committed offsets (OffsetFetch v1): only new messages",
			"the first run failed")
	}

	// ---- Two members split the partitions.
	scenario("a second ConsumerGroup member joining rebalances the group: 4 partitions split 2/2, each member reads only its own", func() {
		topic := topicName("group-pair")
		group := groupName("pair")
		createTopic(topic, 4)
		a := startMember("a", group, topic)
		defer a.stopQuietly()
		// b joins a group whose only member a holds everything: a learns of the rebalance from
		// its Heartbeat (REBALANCE_IN_PROGRESS), its session ends and Consume joins again.
		waitFor("member a claiming all 4 partitions", 30*time.Second, func() bool { return len(a.claimed(topic)) == 4 }, a.state)
		b := startMember("b", group, topic)
		defer b.stopQuietly()
		waitFor("a 2/2 split in one generation", 30*time.Second, func() bool {
			ca, cb := a.claimed(topic), b.claimed(topic)
			if len(ca) != 2 || len(cb) != 2 {
				return false
			}
			seen := map[int32]bool{}
			for _, p := range append(ca, cb...) {
				seen[p] = true
			}
			a.mu.Lock()
			ga := a.generation
			a.mu.Unlock()
			b.mu.Lock()
			gb := b.generation
			b.mu.Unlock()
			return len(seen) == 4 && ga == gb
		}, func() string { return a.state() + " " + b.state() })
		a.mu.Lock()
		sessions := a.sessions
		a.mu.Unlock()
		check(sessions >= 2, "member a went through %d sessions, expected a second one after the rebalance", sessions)
		produceCounts(topic, []int64{5, 5, 5, 5}, []int64{0, 0, 0, 0}, "pair")
		waitFor("reading all 20 messages", 20*time.Second, func() bool {
			a.mu.Lock()
			na := len(a.msgs)
			a.mu.Unlock()
			b.mu.Lock()
			nb := len(b.msgs)
			b.mu.Unlock()
			return na+nb >= 20
		}, func() string { return a.state() + " " + b.state() })
		for _, m := range []*member{a, b} {
			claims := m.claimed(topic)
			got := m.byPartition()
			check(len(got) == 2, "%s read from partitions %v, but claims %v", m.name, got, claims)
			for _, p := range claims {
				check(fmt.Sprint(got[p]) == fmt.Sprint(contiguous(0, 5)), "%s partition %d: offsets %v", m.name, p, got[p])
			}
		}
		adm := newAdmin()
		defer adm.Close()
		ds, err := adm.DescribeConsumerGroups([]string{group})
		must(err, "DescribeConsumerGroups")
		check(len(ds) == 1, "DescribeConsumerGroups returned %d groups", len(ds))
		check(ds[0].State == "Stable" && len(ds[0].Members) == 2,
			"DescribeConsumerGroups: %d groups, state %q, %d members", len(ds), ds[0].State, len(ds[0].Members))
		var described []string
		for id, md := range ds[0].Members {
			as, err := md.GetMemberAssignment()
			must(err, "decoding a described assignment")
			ps := as.Topics[topic]
			sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
			described = append(described, fmt.Sprintf("%s=%v", id, ps))
		}
		sort.Strings(described)
		var want []string
		for _, m := range []*member{a, b} {
			want = append(want, fmt.Sprintf("%s=%v", m.memberID, m.claimed(topic)))
		}
		sort.Strings(want)
		check(strings.Join(described, " ") == strings.Join(want, " "), "described assignments %v, sessions hold %v", described, want)
		waitCommitted(group, topic, []int64{5, 5, 5, 5})
		if os.Getenv("WEIR_COMPAT_DEBUG") == "1" {
			fmt.Fprintf(os.Stderr, "[debug] pair members: %s %s\n", a.state(), b.state())
		}
	})
}
