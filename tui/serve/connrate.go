package serve

import (
	"net/netip"
	"time"
)

// connRates is a token bucket per source of NEW connections: a source may open burst
// connections at once, then one every period. A source that has used up its allowance is
// "hot" until its bucket refills. Hot is not refused outright: a hot newcomer still takes a
// free pre-auth slot, or the slot of its own source's oldest pending connection; what it
// may not do is push out anyone else's (see preauth.victim), and its connections are the
// first pushed out when a newcomer that is not hot needs room.
//
// That is what makes a reconnecting flood harmless to the rest of its network: each slot of
// such a flood reconnects as soon as it is closed, so its source is hot after its first
// burst, and from then on it can only churn its own connections, while a user of the same
// /24, who opens one connection, is not hot and takes a flood connection's slot. A flood
// that keeps each of its sources under the rate (one connection per period each) is
// bounded by it: 50 sources make 50/period newcomers that may push out a pending user, far
// fewer than a network's share in the time a key exchange takes.
//
// The source is the address for IPv4 and the /64 for IPv6 (a host picks any address of
// its /64). The table forgets a source once its bucket is full again; it holds at most
// maxRateSources, and a source it cannot add is treated as hot (an attacker spraying
// addresses makes newcomers look like itself, which costs them only precedence).
//
// connRates has no lock of its own: limits holds it under its mutex.
type connRates struct {
	burst  float64
	period time.Duration // one new connection per period, after the burst
	m      map[string]*rateBucket
	sweep  int // admissions since the last sweep
}

type rateBucket struct {
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

// Defaults for the per-source rate: a burst of an address's share of the pending pool (16
// by default: a classroom behind one NAT address arrives within a few seconds), then one
// new connection every 4 s (an honest client connects once; a client retrying after a
// failure waits longer than that).
const (
	connRatePeriod = 4 * time.Second
	maxRateSources = 1 << 14
)

func newConnRates(burst int, period time.Duration) connRates {
	return connRates{burst: float64(max(1, burst)), period: period, m: map[string]*rateBucket{}}
}

// rateKey is the source a host's connections are counted against: its address (IPv4), its
// /64 (IPv6); a host that is not an IP address is its own source.
func rateKey(host string) string {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}

// refill brings b up to now.
func (r *connRates) refill(b *rateBucket, now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(r.burst, b.tokens+float64(d)/float64(r.period))
		b.at = now
	}
}

// take counts a new connection from key and reports whether key was hot (no token left).
func (r *connRates) take(key string, now time.Time) (hot bool) {
	// Amortised: a sweep costs the table's size, at most once per 1024 admissions (64 when
	// the table is full).
	if r.sweep++; r.sweep >= 1024 || len(r.m) >= maxRateSources && r.sweep >= 64 {
		r.forget(now)
	}
	b := r.m[key]
	if b == nil {
		if len(r.m) >= maxRateSources {
			return true
		}
		b = &rateBucket{tokens: r.burst, at: now}
		r.m[key] = b
	}
	r.refill(b, now)
	if b.tokens < 1 {
		return true
	}
	b.tokens--
	return false
}

// hot reports whether key has no token left now.
func (r *connRates) hot(key string, now time.Time) bool {
	b := r.m[key]
	if b == nil {
		return false
	}
	r.refill(b, now)
	return b.tokens < 1
}

// forget drops the sources whose bucket is full again: they are as if never seen.
func (r *connRates) forget(now time.Time) {
	r.sweep = 0
	for k, b := range r.m {
		if r.refill(b, now); b.tokens >= r.burst {
			delete(r.m, k)
		}
	}
}
