package serve

import (
	"fmt"
	"testing"
	"time"
)

// The choice of the connection to close, one rule at a time, on a pool of 16 (4 per address,
// 8 per network).
func TestPreauthVictims(t *testing.T) {
	p := newPreauth(16)
	if p.perAddr != 4 || p.perPrefix != 8 {
		t.Fatalf("shares %d per address, %d per network; want 4 and 8", p.perAddr, p.perPrefix)
	}
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	conn := func(host string) *connSlot {
		return &connSlot{addr: host, prefix: prefixOf(host), rateKey: rateKey(host)}
	}
	admit := func(c *connSlot, full bool) (v *connSlot, share string) {
		if v, share = p.victim(c, full, now); v != nil {
			p.remove(v)
		}
		if v != nil || share == "" {
			p.add(c)
		}
		return v, share
	}
	want := func(what string, gotV *connSlot, gotShare string, v *connSlot, share string) {
		t.Helper()
		if gotV != v || gotShare != share {
			t.Errorf("%s: closed %+v (share %q), want %+v (share %q)", what, gotV, gotShare, v, share)
		}
	}

	// An address over its share loses its oldest connection, then its oldest that has not
	// finished its key exchange.
	var a []*connSlot
	for range 4 {
		c := conn("10.0.0.1")
		a = append(a, c)
		admit(c, false)
	}
	admit(conn("10.0.0.2"), false) // the same network, another address
	v, share := admit(conn("10.0.0.1"), false)
	want("fifth from one address", v, share, a[0], "address")
	a[1].kex = true
	v, share = admit(conn("10.0.0.1"), false)
	want("past its key exchange, the older one stays", v, share, a[2], "address")

	// A network over its share loses its oldest; other networks are not touched.
	p = newPreauth(16)
	var net10 []*connSlot
	for i := range 8 {
		c := conn(fmt.Sprintf("10.0.0.%d", i))
		net10 = append(net10, c)
		admit(c, false)
	}
	other := conn("10.0.1.1")
	admit(other, false)
	v, share = admit(conn("10.0.0.200"), false)
	want("ninth from one /24", v, share, net10[0], "network")

	// A full pool loses its oldest, whatever its network; so does a server at MaxConns.
	p = newPreauth(16)
	var first []*connSlot
	for i := range 16 {
		c := conn(fmt.Sprintf("10.%d.0.1", i))
		first = append(first, c)
		admit(c, false)
	}
	v, share = admit(conn("192.0.2.1"), false)
	want("a full pool", v, share, first[0], "all")
	v, share = admit(conn("192.0.2.2"), false)
	want("still full", v, share, first[1], "all")
	p.remove(first[2])
	v, share = admit(conn("192.0.2.3"), false)
	want("room in the pool", v, share, nil, "")
	v, share = admit(conn("192.0.2.4"), true)
	want("the server at MaxConns", v, share, first[3], "all")
	if p.peak != 16 || len(p.list) != 16 {
		t.Errorf("peak %d, %d pending; want 16, 16", p.peak, len(p.list))
	}

	// A hot source (past its burst of 4 new connections) may push out its own connections
	// only: in a full network it is refused, and a newcomer that is not hot pushes out the
	// hot source's connections first, though they are newer.
	p = newPreauth(16)
	for i := range 4 { // 10.0.0.1 … 10.0.0.4, one connection each, there first
		c := conn(fmt.Sprintf("10.0.0.%d", 1+i))
		p.rates.take(c.rateKey, now)
		admit(c, false)
	}
	var flood []*connSlot
	for range 4 { // 10.0.0.9 uses up its burst of 4
		c := conn("10.0.0.9")
		c.hot = p.rates.take(c.rateKey, now)
		flood = append(flood, c)
		admit(c, false)
	}
	if flood[3].hot || !p.rates.hot("10.0.0.9", now) || p.rates.hot("10.0.0.1", now) {
		t.Fatalf("after a burst of 4: the 4th hot %v, 10.0.0.9 hot %v, 10.0.0.1 hot %v; want false, true, false",
			flood[3].hot, p.rates.hot("10.0.0.9", now), p.rates.hot("10.0.0.1", now))
	}
	hot := conn("10.0.0.9")
	if hot.hot = p.rates.take(hot.rateKey, now); !hot.hot {
		t.Fatal("a 5th connection within the burst's time is not hot")
	}
	v, share = admit(hot, false)
	want("a hot newcomer, its address full", v, share, flood[0], "address")
	p.remove(flood[1])
	p.remove(flood[2])
	for _, c := range []*connSlot{conn("10.0.0.5"), conn("10.0.0.6")} { // the network fills up again
		admit(c, false)
	}
	v, share = p.victim(&connSlot{addr: "10.0.0.9", prefix: "10.0.0.0/24", rateKey: "10.0.0.9", hot: true}, false, now)
	want("a hot newcomer, its network full", v, share, nil, "network")
	v, share = admit(conn("10.0.0.7"), false)
	want("a newcomer that is not hot, its network full", v, share, flood[3], "network")
	// Past the rate's period the source is no longer hot, and a full bucket is forgotten.
	later := now.Add(4 * connRatePeriod)
	if p.rates.hot("10.0.0.9", later) {
		t.Error("10.0.0.9 still hot after four periods")
	}
	p.rates.forget(later.Add(connRatePeriod))
	if len(p.rates.m) != 0 {
		t.Errorf("%d sources remembered after every bucket refilled, want 0", len(p.rates.m))
	}
}

// A source is the address, IPv4 or IPv6 (without its zone); the site is an IPv6 /48.
func TestRateKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.77":         "192.0.2.77",
		"::ffff:192.0.2.1":   "192.0.2.1",
		"2001:db8:1:2:3::4":  "2001:db8:1:2:3::4",
		"2001:db8:1:2:ff::9": "2001:db8:1:2:ff::9",
		"fe80::1%eth0":       "fe80::1",
		"not-an-address":     "not-an-address",
	} {
		if got := rateKey(in); got != want {
			t.Errorf("rateKey(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"192.0.2.77":         "",
		"::ffff:192.0.2.1":   "",
		"2001:db8:1:2:3::4":  "2001:db8:1::/48",
		"2001:db8:1:ff00::9": "2001:db8:1::/48",
		"2001:db8:2:2:3::4":  "2001:db8:2::/48",
		"not-an-address":     "",
	} {
		if got := siteOf(in); got != want {
			t.Errorf("siteOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// The levels of IPv6 rating, on a burst of 16 (a site's: 64): a source that reconnects
// heats itself only; a spray of addresses of one /64 gets 64 buckets, then the /64's
// overflow; a site that brought 64 new sources at once makes its next new source hot.
func TestConnRatesIPv6Levels(t *testing.T) {
	r := newConnRates(16, connRatePeriod)
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for i := range 17 {
		if hot := r.take("2001:db8:1:1::a", now); hot != (i == 16) {
			t.Fatalf("connection %d of one address: hot %v, want %v", i+1, hot, i == 16)
		}
	}
	if r.hot("2001:db8:1:1::b", now) || r.take("2001:db8:1:1::b", now) {
		t.Error("a second address of the /64 is hot after the first one's burst")
	}
	// 62 more addresses of the /64 fill its 64 buckets and use up the site's burst of 64 new
	// sources: the next new address is hot and not added.
	for i := range 62 {
		if r.take(fmt.Sprintf("2001:db8:1:1::%x", 0x100+i), now) {
			t.Fatalf("address %d of the /64 is hot", 3+i)
		}
	}
	if !r.take("2001:db8:1:1::1:1", now) || !r.take("2001:db8:1:2::1", now) {
		t.Error("a new source of a site that brought 64 at once is not hot")
	}
	if r.take("2001:db8:2:2::1", now) {
		t.Error("a new source of another site is hot")
	}
	// A second later the site has a token for one new source: the /64's overflow, which its
	// further addresses share (a burst of 16: the 17th is hot). Known sources are not charged.
	now = now.Add(time.Second)
	for i := range 17 {
		if hot := r.take(fmt.Sprintf("2001:db8:1:1::2:%x", i), now); hot != (i == 16) {
			t.Fatalf("address %d past the /64's 64: hot %v, want %v", i+1, hot, i == 16)
		}
	}
	if r.per64["2001:db8:1:1::/64"] != 64 || r.m["2001:db8:1:1::/64"] == nil {
		t.Errorf("%d buckets of the /64, overflow %v; want 64 and one", r.per64["2001:db8:1:1::/64"], r.m["2001:db8:1:1::/64"])
	}
	if !r.take("2001:db8:1:2::1", now) || r.take("2001:db8:1:1::b", now) {
		t.Error("the same second: a new source of the site is not hot, or a known one is")
	}
	r.forget(now.Add(16 * connRatePeriod))
	if len(r.m) != 0 || len(r.per64) != 0 {
		t.Errorf("%d buckets and %d /64 counts left after every bucket refilled, want 0 and 0", len(r.m), len(r.per64))
	}
}

// Networks: /24 for IPv4 (also when mapped into IPv6), /64 for IPv6.
func TestPrefixOf(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.77":        "192.0.2.0/24",
		"127.0.0.1":         "127.0.0.0/24",
		"::ffff:192.0.2.1":  "192.0.2.0/24",
		"2001:db8:1:2:3::4": "2001:db8:1:2::/64",
		"fe80::1%eth0":      "fe80::/64",
		"::1":               "::/64",
		"not-an-address":    "not-an-address",
	} {
		if got := prefixOf(in); got != want {
			t.Errorf("prefixOf(%q) = %q, want %q", in, got, want)
		}
	}
}
