package serve

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// ipv6Pool drives a pool of the default size (64: 16 per address, 32 per network) the way
// limits.acquireConn does, without sockets, on a synthetic clock.
type ipv6Pool struct {
	t    *testing.T
	p    preauth
	now  time.Time
	step time.Duration // between newcomers
}

func newIPv6Pool(t *testing.T) *ipv6Pool {
	p := newPreauth(64)
	if p.perAddr != 16 || p.perPrefix != 32 {
		t.Fatalf("shares %d per address, %d per network; want 16 and 32", p.perAddr, p.perPrefix)
	}
	return &ipv6Pool{t: t, p: p, now: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC), step: time.Millisecond}
}

// admit is one newcomer from host, a step after the last: nil if it was refused.
func (x *ipv6Pool) admit(host string) (c *connSlot, share string) {
	x.now = x.now.Add(x.step)
	c = &connSlot{addr: host, prefix: prefixOf(host), rateKey: rateKey(host)}
	c.hot = x.p.rates.take(c.rateKey, x.now)
	v, share := x.p.victim(c, false, x.now)
	if v == nil && share != "" {
		return nil, share
	}
	if v != nil {
		x.p.remove(v)
	}
	x.p.add(c)
	return c, share
}

func (x *ipv6Pool) pending(c *connSlot) bool { return slices.Contains(x.p.list, c) }

// One attacker in a class's /64 reconnecting from 4 addresses of it as fast as it is closed
// or refused: its addresses go hot, the class's do not, and every student gets a slot and
// keeps it (issue 25, item 3: the /64 was one source, and its students were refused).
func TestPreauthClassIPv6Attacker(t *testing.T) {
	x := newIPv6Pool(t)
	attacker := []string{"2001:db8:5:1::a1", "2001:db8:5:1::a2", "2001:db8:5:1::a3", "2001:db8:5:1::a4"}
	flood := func(n int) {
		for i := range n {
			x.admit(attacker[i%len(attacker)])
		}
	}
	flood(2000)
	var students []*connSlot
	for i := range 30 { // a class of 30 (< the network's share of 32), arriving amid the flood
		host := fmt.Sprintf("2001:db8:5:1:%x::%x", 0x100+i, i+1)
		c, share := x.admit(host)
		if c == nil {
			t.Fatalf("student %d (%s) refused (share %q)", i, host, share)
		}
		if c.hot {
			t.Errorf("student %d (%s) counted as hot", i, host)
		}
		students = append(students, c)
		flood(50)
	}
	for i, c := range students {
		if !x.pending(c) {
			t.Errorf("student %d (%s) pushed out by the flood", i, c.addr)
		}
	}
	// The same class on IPv4 (one /24) is admitted too: the reference the IPv6 case must match.
	x = newIPv6Pool(t)
	attacker = []string{"192.0.2.201", "192.0.2.202", "192.0.2.203", "192.0.2.204"}
	flood(2000)
	if c, share := x.admit("192.0.2.10"); c == nil {
		t.Errorf("IPv4 student refused (share %q)", share)
	}
}

// A spray of new connections, each from a fresh /64 of one /48: the spray's connections
// stay within its /48's share (32), a user's pending connection from elsewhere is not pushed
// out, and a new user is admitted (issue 25, item 3: each fresh /64 was a source of its own
// that pushed out the pool's oldest, a user's after 64).
func TestPreauthIPv6Spray(t *testing.T) {
	x := newIPv6Pool(t)
	user, _ := x.admit("198.51.100.7")
	user6, _ := x.admit("2001:db8:77:1::5")
	if user == nil || user6 == nil {
		t.Fatal("users refused in an empty pool")
	}
	spray := 0
	for i := range 5000 {
		if c, _ := x.admit(fmt.Sprintf("2001:db8:bad:%x::1", i)); c != nil {
			spray++
		}
	}
	if !x.pending(user) || !x.pending(user6) {
		t.Fatalf("a user's pending connection was pushed out by the spray (IPv4 %v, IPv6 %v still pending)",
			x.pending(user), x.pending(user6))
	}
	n := 0
	for _, c := range x.p.list {
		if siteOf(c.addr) == "2001:db8:bad::/48" {
			n++
		}
	}
	if n > 32 {
		t.Errorf("the spray holds %d pending connections, more than a network's share (32)", n)
	}
	for _, host := range []string{"203.0.113.9", "2001:db8:78:1::9"} {
		if c, share := x.admit(host); c == nil {
			t.Errorf("a new user from %s refused (share %q)", host, share)
		}
	}
	if !x.pending(user) || !x.pending(user6) {
		t.Error("a user's pending connection was pushed out by a new user")
	}
	t.Logf("spray: %d of 5000 admitted, %d pending at the end", spray, n)
}

// With the table of sources full (an attacker spraying fresh addresses of many /48s
// faster than they are forgotten), a new source from a network never seen is not hot: it
// draws on a shared bucket of unknown sources, which the attacker's further connections,
// from /48s already in the table, do not touch (issue 25, item 3: every new source was hot,
// and a user was refused).
func TestPreauthRateTableFull(t *testing.T) {
	x := newIPv6Pool(t)
	// 10 µs apart: 100,000 new sources a second, faster than a source used once is
	// forgotten (when its bucket is full again, 4 s later).
	x.step = 10 * time.Microsecond
	site := 0
	for len(x.p.rates.m) < maxRateSources && site < 2*maxRateSources/64 {
		for i := range 64 {
			x.admit(fmt.Sprintf("2001:db8:%x:%x::1", site, i))
		}
		site++
	}
	if len(x.p.rates.m) < maxRateSources {
		t.Fatalf("%d sites sprayed, the table holds %d entries, not full", site, len(x.p.rates.m))
	}
	for i := range 1000 { // the attacker goes on, from the /48s it used
		x.admit(fmt.Sprintf("2001:db8:%x:%x::2", i%site, i))
	}
	if len(x.p.rates.m) > maxRateSources {
		t.Errorf("%d entries in the table, more than %d", len(x.p.rates.m), maxRateSources)
	}
	for _, host := range []string{"198.51.100.7", "2001:db8:ffff:1::7"} {
		c, share := x.admit(host)
		if c == nil {
			t.Fatalf("a user from %s refused with the table full (share %q)", host, share)
		}
		if c.hot {
			t.Errorf("a user from %s counted as hot with the table full", host)
		}
	}
}
