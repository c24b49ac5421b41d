// What an unmodified sarama sends: a dialer plugged in through sarama's own hook for one
// (Config.Net.Proxy.Enable and Config.Net.Proxy.Dialer) that connects straight to the broker
// and only reads the bytes going by. It records the API key and version of every request
// frame and, for the group APIs whose answer starts with an error code (JoinGroup v0-v1,
// Heartbeat v0, LeaveGroup v0, SyncGroup v0), that code; it changes nothing, so the versions
// the scenarios check are the ones sarama chose from Config.Version.
package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

type apiVersion struct{ key, version int16 }

var apiNames = map[int16]string{0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit",
	9: "OffsetFetch", 10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup",
	15: "DescribeGroups", 16: "ListGroups", 18: "ApiVersions", 19: "CreateTopics", 21: "DeleteRecords"}

func apiName(key int16) string {
	if n, ok := apiNames[key]; ok {
		return n
	}
	return fmt.Sprintf("key%d", key)
}

// Where the top-level error code sits in the response body (after the correlation id).
var errorCodeAt = map[apiVersion]int{{11, 0}: 0, {11, 1}: 0, {12, 0}: 0, {13, 0}: 0, {14, 0}: 0}

type wireAnswer struct {
	apiVersion
	code int16
}

type wire struct {
	mu      sync.Mutex
	sent    map[apiVersion]int
	answers []wireAnswer
}

func newWire() *wire { return &wire{sent: map[apiVersion]int{}} }

// use makes every connection of clients built from c go through the recorder.
func (w *wire) use(c *sarama.Config) *sarama.Config {
	c.Net.Proxy.Enable = true
	c.Net.Proxy.Dialer = wireDialer{w, c.Net.DialTimeout}
	return c
}

// versions: API name -> the sorted versions sent.
func (w *wire) versions() map[string][]int16 {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string][]int16{}
	for av := range w.sent {
		out[apiName(av.key)] = append(out[apiName(av.key)], av.version)
	}
	for _, vs := range out {
		sort.Slice(vs, func(i, j int) bool { return vs[i] < vs[j] })
	}
	return out
}

func (w *wire) String() string {
	vs := w.versions()
	var parts []string
	for n, v := range vs {
		parts = append(parts, fmt.Sprintf("%s %v", n, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// answered: how many answers of key/version carried this error code.
func (w *wire) answered(key, version, code int16) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, a := range w.answers {
		if a.key == key && a.version == version && a.code == code {
			n++
		}
	}
	return n
}

func (w *wire) codes(key int16) []wireAnswer {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []wireAnswer
	for _, a := range w.answers {
		if a.key == key {
			out = append(out, a)
		}
	}
	return out
}

// expect fails the scenario unless, for each API named in want, exactly those versions were
// sent (an empty list: none at all).
func (w *wire) expect(who string, want map[string][]int16) {
	got := w.versions()
	for name, vs := range want {
		check(fmt.Sprint(got[name]) == fmt.Sprint(sortedCopy(vs)), "%s sent %s versions %v, expected %v (everything it sent: %s)",
			who, name, got[name], vs, w)
	}
}

func sortedCopy(vs []int16) []int16 {
	if len(vs) == 0 {
		return nil
	}
	out := append([]int16(nil), vs...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

type wireDialer struct {
	w       *wire
	timeout time.Duration
}

func (d wireDialer) Dial(network, addr string) (net.Conn, error) {
	c, err := net.DialTimeout(network, addr, d.timeout)
	if err != nil {
		return nil, err
	}
	return &wireConn{Conn: c, w: d.w, pending: map[int32]apiVersion{}}, nil
}

type wireConn struct {
	net.Conn
	w       *wire
	mu      sync.Mutex
	out, in []byte
	pending map[int32]apiVersion
}

// frames calls fn for each complete size-prefixed frame at the start of *buf and drops it.
func frames(buf *[]byte, fn func(frame []byte)) {
	for len(*buf) >= 4 {
		size := int(binary.BigEndian.Uint32(*buf))
		if len(*buf) < 4+size {
			return
		}
		fn((*buf)[4 : 4+size])
		*buf = (*buf)[4+size:]
	}
}

func (c *wireConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.out = append(c.out, p...)
	frames(&c.out, func(f []byte) {
		if len(f) < 8 {
			return
		}
		av := apiVersion{int16(binary.BigEndian.Uint16(f)), int16(binary.BigEndian.Uint16(f[2:]))}
		c.pending[int32(binary.BigEndian.Uint32(f[4:]))] = av
		c.w.mu.Lock()
		c.w.sent[av]++
		c.w.mu.Unlock()
	})
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *wireConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.in = append(c.in, p[:n]...)
		frames(&c.in, func(f []byte) {
			if len(f) < 4 {
				return
			}
			corr := int32(binary.BigEndian.Uint32(f))
			av, ok := c.pending[corr]
			delete(c.pending, corr)
			if at, known := errorCodeAt[av]; ok && known && len(f) >= 4+at+2 {
				code := int16(binary.BigEndian.Uint16(f[4+at:]))
				c.w.mu.Lock()
				c.w.answers = append(c.w.answers, wireAnswer{av, code})
				c.w.mu.Unlock()
			}
		})
		c.mu.Unlock()
	}
	return n, err
}
