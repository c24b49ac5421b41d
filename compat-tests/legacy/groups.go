// sarama 1.22.1's old offset and group APIs (legacy-compat sarama-groups BOOTSTRAP OM.tsv CG.tsv).
//
// What sarama 1.22.1 sends here (github.com/Shopify/sarama in /usr/share/gocode; each scenario
// also checks it on the wire, wire.go):
//
//	Client.GetOffset            ListOffsets v0 below V0_10_1_0, with max_num_offsets 1 (client.go getOffset)
//	Broker.GetAvailableOffsets  ListOffsets in the version and max_num_offsets the caller sets
//	OffsetManager               FindCoordinator v0 (client.go getConsumerMetadata), OffsetFetch v1
//	                            (offset_manager.go fetchInitialOffset: always v1), OffsetCommit v1
//	                            (constructRequest: v1 while Consumer.Offsets.Retention is 0, the
//	                            default; v2 otherwise). Standalone: generation -1, member id "".
//	ConsumerGroup (>= V0_10_2_0, which consumer_group.go requires): JoinGroup v1 (v1 from
//	                            V0_10_1_0, with the rebalance timeout), SyncGroup v0, Heartbeat v0,
//	                            LeaveGroup v0 (no version set), its session's OffsetManager (above,
//	                            with the generation and member id); at V0_10_2_0 also Metadata v1,
//	                            ListOffsets v1 and Fetch v3.
//
// OM.tsv and CG.tsv list what the OffsetManager and the ConsumerGroup committed (group, topic,
// partition, offset, metadata), for old_groups.py verify-commits: new clients read them back.
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

const sarama122 = "sarama 1.22.1"

// produceTo writes n messages to each of the given partitions with a SyncProducer at the
// default config (Produce v0) and checks each partition's offsets 0..n-1; values are
// "<prefix>-<partition>-<i>".
func produceTo(topic, prefix string, parts []int32, n int) {
	c := producerConfig(sarama.NewConfig().Version, sarama.CompressionNone)
	c.Producer.Partitioner = sarama.NewManualPartitioner
	p, err := sarama.NewSyncProducer(bootstrap, c)
	must(err, "NewSyncProducer")
	defer p.Close()
	for _, part := range parts {
		for i := 0; i < n; i++ {
			_, off, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Partition: part,
				Key: sarama.StringEncoder(fmt.Sprintf("k%d", i)), Value: sarama.StringEncoder(fmt.Sprintf("%s-%d-%d", prefix, part, i))})
			must(err, fmt.Sprintf("SendMessage %d to partition %d", i, part))
			check(off == int64(i), "message %d to partition %d acknowledged at offset %d", i, part, off)
		}
	}
}

func writeCommits(path string, lines []string) {
	must(os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644), "writing "+path)
}

func runSaramaGroups(omOut, cgOut string) {
	def := sarama.NewConfig().Version
	_ = os.Remove(omOut)
	_ = os.Remove(cgOut)

	// ------------------------------------------------ ListOffsets v0
	lo := topicName("lo")
	loReady := scenario(fmt.Sprintf("%s default config (Version %v): Client.GetOffset OffsetOldest / OffsetNewest (ListOffsets v0, max_num_offsets 1) = 5 / 12 "+
		"after DeleteRecords to offset 5, and 0 / 0 on an empty partition", sarama122, def), func() {
		createTopic(lo, 2)
		produceTo(lo, "lo", []int32{0}, 12)
		ac := sarama.NewConfig()
		ac.Version = sarama.V1_0_0_0
		a, err := sarama.NewClusterAdmin(bootstrap, ac)
		must(err, "NewClusterAdmin (V1_0_0_0, for DeleteRecords)")
		defer a.Close()
		must(a.DeleteRecords(lo, map[int32]int64{0: 5}), "DeleteRecords partition 0 to offset 5")
		w := newWire()
		cl, err := sarama.NewClient(bootstrap, w.use(sarama.NewConfig()))
		must(err, "NewClient")
		defer cl.Close()
		got := map[string]int64{}
		for _, p := range []int32{0, 1} {
			for _, t := range []int64{sarama.OffsetOldest, sarama.OffsetNewest} {
				o, err := cl.GetOffset(lo, p, t)
				must(err, fmt.Sprintf("GetOffset partition %d time %d", p, t))
				got[fmt.Sprintf("p%d/%d", p, t)] = o
			}
		}
		want := map[string]int64{"p0/-2": 5, "p0/-1": 12, "p1/-2": 0, "p1/-1": 0}
		check(fmt.Sprint(got) == fmt.Sprint(want), "GetOffset (partition/time: offset) %v, expected %v", got, want)
		w.expect(sarama122+" at "+def.String(), map[string][]int16{"ListOffsets": {0}, "Metadata": {0}})
	})

	rawName := fmt.Sprintf("%s: Broker.GetAvailableOffsets with ListOffsets v0 of max_num_offsets 10 gets Kafka's old-style offset lists: latest on "+
		"partition 0 (log start 5, 12 messages) = [12 ... 5] (descending: the high watermark, then the start of each log segment, the first "+
		"clamped to the log start offset), earliest = [5], latest with max_num_offsets 1 = [12] and with 0 = [], latest and earliest on the empty partition = [0]", sarama122)
	if !loReady {
		skip(rawName, "the ListOffsets v0 topic is not ready")
	} else {
		scenario(rawName, func() {
			w := newWire()
			cl, err := sarama.NewClient(bootstrap, w.use(sarama.NewConfig()))
			must(err, "NewClient")
			defer cl.Close()
			b, err := cl.Leader(lo, 0)
			must(err, "Leader")
			ask := func(p int32, t int64, max int32) []int64 {
				req := &sarama.OffsetRequest{Version: 0}
				req.AddBlock(lo, p, t, max)
				resp, err := b.GetAvailableOffsets(req)
				must(err, fmt.Sprintf("GetAvailableOffsets v0 partition %d time %d max %d", p, t, max))
				blk := resp.GetBlock(lo, p)
				check(blk != nil, "no block for partition %d in the answer", p)
				check(blk.Err == sarama.ErrNoError, "partition %d time %d max %d: error %v", p, t, max, blk.Err)
				return blk.Offsets
			}
			latest := ask(0, sarama.OffsetNewest, 10)
			desc := len(latest) >= 2 && latest[0] == 12 && latest[len(latest)-1] == 5
			for i := 1; desc && i < len(latest); i++ {
				desc = latest[i] < latest[i-1]
			}
			got := map[string][]int64{
				"latest max 10":          latest,
				"earliest max 10":        ask(0, sarama.OffsetOldest, 10),
				"latest max 1":           ask(0, sarama.OffsetNewest, 1),
				"latest max 0":           ask(0, sarama.OffsetNewest, 0),
				"empty: latest max 10":   ask(1, sarama.OffsetNewest, 10),
				"empty: earliest max 10": ask(1, sarama.OffsetOldest, 10),
			}
			var bad []string
			if !desc {
				bad = append(bad, fmt.Sprintf("latest max 10 on partition 0: %v, Kafka answers [12, (segment starts between,) 5]", latest))
			}
			for k, v := range map[string][]int64{"earliest max 10": {5}, "latest max 1": {12}, "latest max 0": {}, "empty: latest max 10": {0}, "empty: earliest max 10": {0}} {
				if fmt.Sprint(got[k]) != fmt.Sprint(v) {
					bad = append(bad, fmt.Sprintf("%s: %v, Kafka answers %v", k, got[k], v))
				}
			}
			sort.Strings(bad)
			check(len(bad) == 0, "%s", strings.Join(bad, "; "))
			w.expect(sarama122, map[string][]int16{"ListOffsets": {0}})
		})
	}

	// ------------------------------------------------ OffsetManager at 0.8.2
	om := topicName("om")
	omGroup := "legacy-sarama-om-" + runID
	marks := map[int32]struct {
		off  int64
		meta string
	}{0: {4, "sarama-meta-0"}, 1: {7, ""}, 2: {10, "all read"}}
	omName := fmt.Sprintf("%s default config (Version %v): an OffsetManager (FindCoordinator v0, OffsetFetch v1) finds no commit, MarkOffset + Close "+
		"commit 4, 7 and 10 with metadata (OffsetCommit v1, generation -1), and a new OffsetManager reads them back (OffsetFetch v1)", sarama122, def)
	omOK := scenario(omName, func() {
		createTopic(om, 3)
		produceTo(om, "om", []int32{0, 1, 2}, 10)
		w := newWire()
		c := w.use(sarama.NewConfig())
		c.Consumer.Return.Errors = true
		cl, err := sarama.NewClient(bootstrap, c)
		must(err, "NewClient")
		defer cl.Close()
		m, err := sarama.NewOffsetManagerFromClient(omGroup, cl)
		must(err, "NewOffsetManagerFromClient")
		var poms []sarama.PartitionOffsetManager
		for p := int32(0); p < 3; p++ {
			pom, err := m.ManagePartition(om, p)
			must(err, fmt.Sprintf("ManagePartition %d", p))
			off, meta := pom.NextOffset()
			check(off == c.Consumer.Offsets.Initial && meta == "", "partition %d before any commit: NextOffset %d %q, expected Consumer.Offsets.Initial (%d) and no metadata",
				p, off, meta, c.Consumer.Offsets.Initial)
			pom.MarkOffset(marks[p].off, marks[p].meta)
			poms = append(poms, pom)
		}
		must(m.Close(), "OffsetManager.Close (the last commit)")
		for p, pom := range poms {
			must(pom.Close(), fmt.Sprintf("partition %d offset manager errors", p))
		}
		w.expect(sarama122+" OffsetManager", map[string][]int16{"FindCoordinator": {0}, "OffsetFetch": {1}, "OffsetCommit": {1},
			"JoinGroup": nil, "SyncGroup": nil, "Heartbeat": nil, "LeaveGroup": nil, "ApiVersions": nil})

		w2 := newWire()
		cl2, err := sarama.NewClient(bootstrap, w2.use(sarama.NewConfig()))
		must(err, "NewClient")
		defer cl2.Close()
		m2, err := sarama.NewOffsetManagerFromClient(omGroup, cl2)
		must(err, "NewOffsetManagerFromClient")
		defer m2.Close()
		var got []string
		for p := int32(0); p < 3; p++ {
			pom, err := m2.ManagePartition(om, p)
			must(err, fmt.Sprintf("ManagePartition %d", p))
			off, meta := pom.NextOffset()
			pom.AsyncClose()
			got = append(got, fmt.Sprintf("%d:%d/%q", p, off, meta))
		}
		want := fmt.Sprintf("[0:%d/%q 1:%d/%q 2:%d/%q]", marks[0].off, marks[0].meta, marks[1].off, marks[1].meta, marks[2].off, marks[2].meta)
		check(fmt.Sprint(got) == want, "a new OffsetManager read (partition:offset/metadata) %v, committed were %s", got, want)
		w2.expect(sarama122+" OffsetManager", map[string][]int16{"OffsetFetch": {1}})
		var lines []string
		for p := int32(0); p < 3; p++ {
			lines = append(lines, fmt.Sprintf("%s\t%s\t%d\t%d\t%s\n", omGroup, om, p, marks[p].off, marks[p].meta))
		}
		writeCommits(omOut, lines)
	})

	resumeName := fmt.Sprintf("%s default config: a Consumer restarted at the OffsetManager's NextOffset (Fetch v0) reads exactly offsets 4..9 "+
		"and 7..9, each once with its value, and partition 2's committed 10 is its high watermark (ListOffsets v0)", sarama122)
	if !omOK {
		skip(resumeName, "the OffsetManager scenario failed")
	} else {
		scenario(resumeName, func() {
			cl, err := sarama.NewClient(bootstrap, consumerConfig(def))
			must(err, "NewClient")
			defer cl.Close()
			m, err := sarama.NewOffsetManagerFromClient(omGroup, cl)
			must(err, "NewOffsetManagerFromClient")
			defer m.Close()
			cons, err := sarama.NewConsumerFromClient(cl)
			must(err, "NewConsumerFromClient")
			defer cons.Close()
			for p := int32(0); p < 3; p++ {
				pom, err := m.ManagePartition(om, p)
				must(err, fmt.Sprintf("ManagePartition %d", p))
				next, _ := pom.NextOffset()
				pom.AsyncClose()
				check(next == marks[p].off, "partition %d: NextOffset %d, committed %d", p, next, marks[p].off)
				hw, err := cl.GetOffset(om, p, sarama.OffsetNewest)
				must(err, "GetOffset newest")
				check(hw == 10, "partition %d high watermark %d, expected 10", p, hw)
				if next == hw {
					continue
				}
				pc, err := cons.ConsumePartition(om, p, next)
				must(err, fmt.Sprintf("ConsumePartition %d from %d", p, next))
				deadline := time.After(10 * time.Second)
				for o := next; o < hw; o++ {
					select {
					case msg := <-pc.Messages():
						check(msg.Offset == o && string(msg.Value) == fmt.Sprintf("om-%d-%d", p, o),
							"partition %d: read offset %d (%q), expected offset %d", p, msg.Offset, short(msg.Value), o)
					case e := <-pc.Errors():
						check(false, "partition %d: %s", p, errText(e.Err))
					case <-deadline:
						check(false, "partition %d: read up to offset %d of %d within 10 s", p, o, hw)
					}
				}
				pc.AsyncClose()
			}
		})
	}

	runConsumerGroup(cgOut)
}

// ------------------------------------------------ ConsumerGroup at 0.10.2

type cgSession struct {
	gen    int32
	claims []int32
}

type cgMember struct {
	name   string
	wire   *wire
	group  sarama.ConsumerGroup
	mu     sync.Mutex
	sess   []cgSession
	read   map[int32][]int64 // partition -> offsets read
	values []string
	errs   []string
	done   chan struct{}
}

func (m *cgMember) Setup(s sarama.ConsumerGroupSession) error {
	var claims []int32
	for _, ps := range s.Claims() {
		claims = append(claims, ps...)
	}
	sort.Slice(claims, func(i, j int) bool { return claims[i] < claims[j] })
	m.mu.Lock()
	m.sess = append(m.sess, cgSession{s.GenerationID(), claims})
	m.mu.Unlock()
	return nil
}

func (m *cgMember) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (m *cgMember) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for msg := range c.Messages() {
		m.mu.Lock()
		m.read[msg.Partition] = append(m.read[msg.Partition], msg.Offset)
		m.values = append(m.values, string(msg.Value))
		m.mu.Unlock()
		s.MarkMessage(msg, "")
	}
	return nil
}

func (m *cgMember) last() cgSession {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sess) == 0 {
		return cgSession{gen: -1}
	}
	return m.sess[len(m.sess)-1]
}

func (m *cgMember) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.values)
}

// waitFor polls cond every 20 ms until it holds or timeout passes; the last check's result.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

func runConsumerGroup(cgOut string) {
	const parts, perPart = 4, 10
	topic := topicName("cg")
	group := "legacy-sarama-cg-" + runID
	scenario(fmt.Sprintf("%s Version 0.10.2.0: two ConsumerGroup members (FindCoordinator v0, JoinGroup v1, SyncGroup v0, Heartbeat v0) "+
		"split %d partitions disjointly and cover all of them in one generation; %d messages written after the split are each read once, by "+
		"the member owning its partition; both keep the generation (Heartbeat v0 answered 0), commit (OffsetCommit v1 with generation and "+
		"member id), leave (LeaveGroup v0 answered 0), and a new OffsetManager reads %d for every partition (OffsetFetch v1)",
		sarama122, parts, parts*perPart, perPart), func() {
		createTopic(topic, parts)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var members []*cgMember
		for _, name := range []string{"a", "b"} {
			m := &cgMember{name: name, wire: newWire(), read: map[int32][]int64{}, done: make(chan struct{})}
			c := m.wire.use(sarama.NewConfig())
			c.Version = sarama.V0_10_2_0
			c.ClientID = "legacy-sarama-cg-" + name
			c.Consumer.Return.Errors = true
			c.Consumer.Offsets.Initial = sarama.OffsetOldest
			c.Consumer.Group.Heartbeat.Interval = 200 * time.Millisecond
			c.Consumer.Group.Session.Timeout = 10 * time.Second
			c.Consumer.Group.Rebalance.Timeout = 10 * time.Second
			c.Consumer.MaxWaitTime = 100 * time.Millisecond
			g, err := sarama.NewConsumerGroup(bootstrap, group, c)
			must(err, "NewConsumerGroup member "+name)
			m.group = g
			members = append(members, m)
			go func() {
				for e := range g.Errors() {
					m.mu.Lock()
					m.errs = append(m.errs, e.Error())
					m.mu.Unlock()
				}
			}()
			go func() {
				defer close(m.done)
				for ctx.Err() == nil {
					if err := g.Consume(ctx, []string{topic}, m); err != nil {
						m.mu.Lock()
						m.errs = append(m.errs, "Consume: "+err.Error())
						m.mu.Unlock()
						select {
						case <-ctx.Done():
						case <-time.After(200 * time.Millisecond): // back off before rejoining
						}
					}
				}
			}()
		}
		closed := false
		closeAll := func() {
			if closed {
				return
			}
			closed = true
			cancel()
			for _, m := range members {
				select {
				case <-m.done:
				case <-time.After(15 * time.Second):
				}
			}
			for _, m := range members {
				must(m.group.Close(), "ConsumerGroup.Close member "+m.name)
			}
		}
		defer closeAll()
		a, b := members[0], members[1]
		state := func() string {
			var s []string
			for _, m := range members {
				m.mu.Lock()
				s = append(s, fmt.Sprintf("member %s: sessions (generation claims) %v, errors %v", m.name, m.sess, m.errs))
				m.mu.Unlock()
			}
			return strings.Join(s, "; ")
		}
		split := func() bool {
			sa, sb := a.last(), b.last()
			if sa.gen < 0 || sa.gen != sb.gen || len(sa.claims) == 0 || len(sb.claims) == 0 {
				return false
			}
			all := append(append([]int32(nil), sa.claims...), sb.claims...)
			sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
			return fmt.Sprint(all) == fmt.Sprint([]int32{0, 1, 2, 3})
		}
		check(waitFor(20*time.Second, split), "no split of the 4 partitions into one generation within 20 s: %s", state())
		gen, owner := a.last().gen, map[int32]string{}
		for _, m := range members {
			for _, p := range m.last().claims {
				owner[p] = m.name
			}
		}
		hb := []int{a.wire.answered(12, 0, 0), b.wire.answered(12, 0, 0)}
		produceTo(topic, "cg", []int32{0, 1, 2, 3}, perPart)
		ok := waitFor(20*time.Second, func() bool {
			return a.count()+b.count() >= parts*perPart && a.wire.answered(12, 0, 0) > hb[0] && b.wire.answered(12, 0, 0) > hb[1]
		})
		check(ok, "20 s after the split: member a read %d, b %d of %d; Heartbeat v0 answers a %v b %v; %s", a.count(), b.count(),
			parts*perPart, a.wire.codes(12), b.wire.codes(12), state())
		for _, m := range members {
			check(m.last().gen == gen, "member %s left generation %d while reading: %s", m.name, gen, state())
			m.mu.Lock()
			for p, offs := range m.read {
				check(owner[p] == m.name, "member %s read partition %d, owned by %s", m.name, p, owner[p])
				check(fmt.Sprint(offs) == fmt.Sprint([]int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), "member %s read partition %d at offsets %v", m.name, p, offs)
			}
			m.mu.Unlock()
		}
		closeAll()
		for _, m := range members {
			who := fmt.Sprintf("%s ConsumerGroup member %s", sarama122, m.name)
			check(m.wire.answered(13, 0, 0) == 1, "%s: LeaveGroup v0 answers %v", who, m.wire.codes(13))
			m.wire.expect(who, map[string][]int16{"FindCoordinator": {0}, "JoinGroup": {1}, "SyncGroup": {0}, "Heartbeat": {0},
				"LeaveGroup": {0}, "OffsetFetch": {1}, "OffsetCommit": {1}, "Metadata": {1}, "ListOffsets": {1}, "Fetch": {3}, "ApiVersions": nil})
		}

		w := newWire()
		cl, err := sarama.NewClient(bootstrap, w.use(sarama.NewConfig()))
		must(err, "NewClient")
		defer cl.Close()
		om, err := sarama.NewOffsetManagerFromClient(group, cl)
		must(err, "NewOffsetManagerFromClient")
		defer om.Close()
		var got, lines []string
		for p := int32(0); p < parts; p++ {
			pom, err := om.ManagePartition(topic, p)
			must(err, fmt.Sprintf("ManagePartition %d", p))
			off, meta := pom.NextOffset()
			pom.AsyncClose()
			got = append(got, fmt.Sprintf("%d:%d/%q", p, off, meta))
			lines = append(lines, fmt.Sprintf("%s\t%s\t%d\t%d\t\n", group, topic, p, perPart))
		}
		check(fmt.Sprint(got) == `[0:10/"" 1:10/"" 2:10/"" 3:10/""]`, "a new OffsetManager read (partition:offset/metadata) %v, expected 10 and no metadata each", got)
		writeCommits(cgOut, lines)
	})
}
