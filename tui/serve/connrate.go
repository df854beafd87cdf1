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
// The source is the address, also for IPv6: a class on an IPv6 LAN shares one /64, and an
// attacker among them reconnecting from a few addresses must heat its own buckets, not the
// class's. Since an IPv6 host may pick any address of its /64 (and a customer any /64 of
// its /48), two more levels keep a spray of addresses from buying a fresh burst with each:
//
//   - a /64 holds at most maxSourcesPer64 address buckets; its further addresses share one
//     overflow bucket, keyed by the /64;
//   - a new source of an IPv6 /48 (the site) costs the site's bucket a token: a burst of
//     siteScale×burst new sources, then siteScale per period. A new source in a hot site is
//     hot and is not added to the table. Known sources are not charged: a reconnecting
//     source heats only itself, a spray of fresh addresses or /64s heats its site.
//
// The table holds at most maxRateSources buckets (sources and sites; a bucket is forgotten
// once full again), and per64 at most one count per address bucket: about 4 MiB when full
// (3.75 MiB measured, see LOAD.md). When it is full, a new source is charged to its site if the site is in
// the table, else to one shared bucket of unknown sources (a site's burst and rate): an
// attacker who filled the table from its sites keeps charging them, and a user from a
// network never seen still gets a token, where before every new source counted as hot.
//
// connRates has no lock of its own: limits holds it under its mutex.
type connRates struct {
	burst   float64
	period  time.Duration // one new connection per period, after the burst
	m       map[string]*rateBucket
	per64   map[string]int // IPv6: address buckets per /64 in m
	unknown rateBucket     // the new sources the full table has no room for (a site's limits)
	sweep   int            // admissions since the last sweep
}

type rateBucket struct {
	tokens float64
	at     time.Time // when tokens was last brought up to date
	site   bool      // a site's bucket of new sources (siteScale × the burst and the rate)
	net64  string    // an IPv6 address's /64, counted in per64
}

// Defaults for the per-source rate: a burst of an address's share of the pending pool (16
// by default: a classroom behind one NAT address arrives within a few seconds), then one
// new connection every 4 s (an honest client connects once; a client retrying after a
// failure waits longer than that). A site (/48) may bring 4 × 16 = 64 new addresses at
// once, a pool's worth, then one a second.
const (
	connRatePeriod  = 4 * time.Second
	maxRateSources  = 1 << 14
	maxSourcesPer64 = 64
	siteBits        = 48
	siteScale       = 4
)

func newConnRates(burst int, period time.Duration) connRates {
	r := connRates{burst: float64(max(1, burst)), period: period, m: map[string]*rateBucket{}, per64: map[string]int{}}
	r.unknown = rateBucket{tokens: r.burst * siteScale, site: true}
	return r
}

// rateKey is the source a host's connections are counted against: its address without a
// zone (an IPv4-mapped address as IPv4); a host that is not an IP address is its own source.
func rateKey(host string) string {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	return a.Unmap().WithZone("").String()
}

// siteOf is the site of an IPv6 host, its /48: the aggregate whose new sources are rated
// together (connRates) and whose pending connections have a share (preauth); "" for IPv4
// and for a host that is not an IP address.
func siteOf(host string) string {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	if a = a.Unmap().WithZone(""); a.Is4() {
		return ""
	}
	return netip.PrefixFrom(a, siteBits).Masked().String()
}

// limits is b's burst and the time one token takes to come back.
func (r *connRates) limits(b *rateBucket) (burst float64, period time.Duration) {
	if b.site {
		return r.burst * siteScale, r.period / siteScale
	}
	return r.burst, r.period
}

// refill brings b up to now.
func (r *connRates) refill(b *rateBucket, now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		burst, period := r.limits(b)
		b.tokens = min(burst, b.tokens+float64(d)/float64(period))
		b.at = now
	}
}

// draw takes a token from b if it has one.
func (r *connRates) draw(b *rateBucket, now time.Time) bool {
	if r.refill(b, now); b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// bucket is the bucket key's connections draw on, nil if key is not in the table, and, for
// an IPv6 address, its site and /64 (the overflow's key when the /64 has no room left).
func (r *connRates) bucket(key string) (b *rateBucket, site, net64 string) {
	if b = r.m[key]; b != nil {
		return b, "", ""
	}
	a, err := netip.ParseAddr(key)
	if err != nil || !a.Is6() {
		return nil, "", ""
	}
	site = netip.PrefixFrom(a, siteBits).Masked().String()
	net64 = netip.PrefixFrom(a, 64).Masked().String()
	if r.per64[net64] >= maxSourcesPer64 {
		return r.m[net64], site, net64
	}
	return nil, site, net64
}

// take counts a new connection from key (a rateKey) and reports whether it was hot: its
// source had no token left, or it is a new source and its site (or, the table full, the
// unknown sources) had none.
func (r *connRates) take(key string, now time.Time) (hot bool) {
	// Amortised: a sweep costs the table's size, at most once per 1024 admissions (64 when
	// the table is full).
	if r.sweep++; r.sweep >= 1024 || len(r.m) >= maxRateSources && r.sweep >= 64 {
		r.forget(now)
	}
	b, site, net64 := r.bucket(key)
	if b != nil {
		return !r.draw(b, now)
	}
	if net64 != "" && r.per64[net64] >= maxSourcesPer64 {
		key, net64 = net64, "" // the /64's overflow, new
	}
	// A new source: charged to its site, which is added first if there is room.
	s := r.m[site]
	switch {
	case s == nil && site != "" && len(r.m) < maxRateSources:
		s = &rateBucket{tokens: r.burst * siteScale, at: now, site: true}
		r.m[site] = s
	case s == nil && len(r.m) >= maxRateSources:
		s = &r.unknown
	}
	if s != nil && !r.draw(s, now) {
		return true
	}
	if len(r.m) >= maxRateSources {
		return false // it had a token of its site's or the unknown sources'
	}
	b = &rateBucket{tokens: r.burst, at: now, net64: net64}
	r.m[key] = b
	if net64 != "" {
		r.per64[net64]++
	}
	return !r.draw(b, now)
}

// hot reports whether key's source has no token left now (its site is not consulted: a
// connection admitted from a hot site is marked hot by take).
func (r *connRates) hot(key string, now time.Time) bool {
	b, _, _ := r.bucket(key)
	if b == nil {
		return false
	}
	r.refill(b, now)
	return b.tokens < 1
}

// forget drops the buckets that are full again: they are as if never seen.
func (r *connRates) forget(now time.Time) {
	r.sweep = 0
	for k, b := range r.m {
		burst, _ := r.limits(b)
		if r.refill(b, now); b.tokens >= burst {
			delete(r.m, k)
			if b.net64 != "" {
				if r.per64[b.net64]--; r.per64[b.net64] <= 0 {
					delete(r.per64, b.net64)
				}
			}
		}
	}
}
