package serve

import (
	"net/netip"
	"time"
)

// preauth is the table of pending connections: accepted, not yet authenticated (or, with
// Open, without a session yet). They cost the server a goroutine and a handshake each and
// prove nothing, so they get a pool of their own, Config.MaxPreauth slots (by default half
// of MaxConns, at most 64), shared fairly:
//
//   - one address holds at most a quarter of the pool (16 by default, as many handshakes at
//     once as a classroom behind one NAT address needs), one network (a /24 for IPv4, a /64
//     for IPv6, the blocks a single customer or attacker typically holds) at most half, and
//     so does one IPv6 site (a /48: a customer may use any /64 of it, so a spray across its
//     /64s holds at most half the pool, and pushes out only its own site's connections);
//   - a newcomer whose source has opened connections faster than its allowance is "hot"
//     (connRates: a burst of 16, then one every 4 s; for IPv6 also a new address of a site
//     that brought more than 64 at once). A hot newcomer takes a free slot, or the slot of
//     its own address's oldest pending connection when its address is full; otherwise it
//     is refused, closed at once, before any handshake work;
//   - any other newcomer always gets a slot. If its address, its network, its site or the
//     pool (or MaxConns) is full, the OLDEST pending connection of that address, that
//     network, that site or the whole pool is closed to make room, in that order of
//     preference: a flood from one address, network or site, once it holds its share,
//     pushes out only its own connections;
//   - among those, connections of hot sources (hot when admitted, or now) go first, then
//     connections that have not finished the key exchange: a silent half-open connection
//     goes before a client that is authenticating;
//   - when more than half the pool is taken, a newcomer's handshake deadline is a quarter
//     of HandshakeTimeout.
//
// Eviction rather than refusal is what makes a flood of unfinished handshakes harmless: the
// flood can hold slots only until newer connections arrive. But eviction alone turns a
// flood that reconnects at once into a churn: every newcomer pushes out the oldest, which
// comes back as a newcomer, and a real client of the same network, which needs a few round
// trips to finish its key exchange, is pushed out before it does (issue 25: 50 addresses ×
// 10 reconnecting slots kept a user of their /24 out 4 times in 5). The rate per source
// breaks the loop: a reconnecting source is hot within its first burst, its newcomers
// cannot push out anyone but its own, and a user's newcomer pushes out a hot source's
// connection first. A classroom behind one NAT address is one address: its students'
// handshakes are short, and once authenticated they leave the table.
//
// preauth has no lock of its own: limits holds it under its mutex.
type preauth struct {
	max, perAddr, perPrefix int

	list     []*connSlot // oldest first
	byAddr   map[string]int
	byPrefix map[string]int
	bySite   map[string]int // IPv6: pending per /48 (siteOf)
	rates    connRates      // new connections per source
	peak     int            // most pending at once
	evicted  int            // connections closed to make room
	refused  int            // newcomers refused
}

func newPreauth(n int) preauth {
	per := max(1, n/4)
	return preauth{max: n, perAddr: per, perPrefix: max(1, n/2),
		byAddr: map[string]int{}, byPrefix: map[string]int{}, bySite: map[string]int{}, rates: newConnRates(per, connRatePeriod)}
}

// victim is the connection to close before c may enter, and which share was full: c's
// address, c's network, c's site (IPv6), or the pool (also when the server is at MaxConns,
// full). Nil with share "" if there is room; nil with a share if c is refused: it is hot and
// the share is not its address's, or no pending connection is left to close (every
// connection is authenticated and the server is at MaxConns).
func (p *preauth) victim(c *connSlot, full bool, now time.Time) (v *connSlot, share string) {
	site := siteOf(c.addr)
	switch {
	case p.byAddr[c.addr] >= p.perAddr:
		return p.oldest(func(o *connSlot) bool { return o.addr == c.addr }, now), "address"
	case p.byPrefix[c.prefix] >= p.perPrefix:
		if c.hot {
			return nil, "network"
		}
		return p.oldest(func(o *connSlot) bool { return o.prefix == c.prefix }, now), "network"
	case site != "" && p.bySite[site] >= p.perPrefix:
		if c.hot {
			return nil, "site"
		}
		return p.oldest(func(o *connSlot) bool { return siteOf(o.addr) == site }, now), "site"
	case len(p.list) >= p.max || full:
		if c.hot {
			return nil, "all"
		}
		return p.oldest(func(*connSlot) bool { return true }, now), "all"
	}
	return nil, ""
}

// oldest is the oldest matching connection of the first kind there is: from a hot source
// and not past its key exchange; not past its key exchange; from a hot source; any. A
// connection is from a hot source if it was hot when admitted or its source is hot now.
func (p *preauth) oldest(match func(*connSlot) bool, now time.Time) *connSlot {
	var best *connSlot
	bestRank := 4
	for _, o := range p.list {
		if !match(o) {
			continue
		}
		rank := 0
		if !o.hot && !p.rates.hot(o.rateKey, now) {
			rank++
		}
		if o.kex {
			rank += 2
		}
		if rank < bestRank {
			best, bestRank = o, rank
			if rank == 0 {
				break
			}
		}
	}
	return best
}

func (p *preauth) add(c *connSlot) {
	c.pending = true
	p.list = append(p.list, c)
	p.byAddr[c.addr]++
	p.byPrefix[c.prefix]++
	if site := siteOf(c.addr); site != "" {
		p.bySite[site]++
	}
	p.peak = max(p.peak, len(p.list))
}

func (p *preauth) remove(c *connSlot) {
	if !c.pending {
		return
	}
	c.pending = false
	for i, o := range p.list {
		if o == c {
			p.list = append(p.list[:i], p.list[i+1:]...)
			break
		}
	}
	if p.byAddr[c.addr]--; p.byAddr[c.addr] == 0 {
		delete(p.byAddr, c.addr)
	}
	if p.byPrefix[c.prefix]--; p.byPrefix[c.prefix] == 0 {
		delete(p.byPrefix, c.prefix)
	}
	if site := siteOf(c.addr); site != "" {
		if p.bySite[site]--; p.bySite[site] == 0 {
			delete(p.bySite, site)
		}
	}
}

// underPressure reports more than half the pool taken.
func (p *preauth) underPressure() bool { return len(p.list) > p.max/2 }

// prefixOf is the network a host belongs to for the per-network share: its /24 (IPv4) or
// /64 (IPv6); a host that is not an IP address is its own network.
func prefixOf(host string) string {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap().WithZone("")
	bits := 64
	if a.Is4() {
		bits = 24
	}
	return netip.PrefixFrom(a, bits).Masked().String()
}
