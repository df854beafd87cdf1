package serve

import "net/netip"

// preauth is the table of pending connections: accepted, not yet authenticated (or, with
// Open, without a session yet). They cost the server a goroutine and a handshake each and
// prove nothing, so they get a pool of their own, Config.MaxPreauth slots (by default half
// of MaxConns, at most 64), shared fairly:
//
//   - one address holds at most a quarter of the pool (16 by default, as many handshakes at
//     once as a classroom behind one NAT address needs), one network (a /24 for IPv4, a /64
//     for IPv6, the blocks a single customer or attacker typically holds) at most half;
//   - a newcomer always gets a slot. If its address, its network or the pool (or MaxConns)
//     is full, the OLDEST pending connection of that address, that network or the whole
//     pool is closed to make room, in that order of preference: a flood from one address
//     or network, once it holds its share, pushes out only its own connections;
//   - among those, a connection that has finished the key exchange is closed only if none
//     that has not is left: a silent half-open connection goes before a client that is
//     authenticating;
//   - when more than half the pool is taken, a newcomer's handshake deadline is a quarter
//     of HandshakeTimeout.
//
// Eviction rather than refusal is what makes a flood of unfinished handshakes harmless: the
// flood can hold slots only until newer connections arrive, and a real client, which needs
// a few round trips to finish its key exchange, loses its slot only if a full share of
// newer connections from its own network arrives meanwhile (or a full pool from everywhere
// that no other network's share absorbs). A classroom behind one NAT address is one address:
// its students' handshakes are short, and once authenticated they leave the table.
//
// preauth has no lock of its own: limits holds it under its mutex.
type preauth struct {
	max, perAddr, perPrefix int

	list     []*connSlot // oldest first
	byAddr   map[string]int
	byPrefix map[string]int
	peak     int // most pending at once
	evicted  int // connections closed to make room
}

func newPreauth(n int) preauth {
	return preauth{max: n, perAddr: max(1, n/4), perPrefix: max(1, n/2),
		byAddr: map[string]int{}, byPrefix: map[string]int{}}
}

// victim is the connection to close before c may enter, and which share was full: c's
// address, c's network, or the pool (also when the server is at MaxConns, full). Nil if
// there is room.
func (p *preauth) victim(c *connSlot, full bool) (v *connSlot, share string) {
	switch {
	case p.byAddr[c.addr] >= p.perAddr:
		return p.oldest(func(o *connSlot) bool { return o.addr == c.addr }), "address"
	case p.byPrefix[c.prefix] >= p.perPrefix:
		return p.oldest(func(o *connSlot) bool { return o.prefix == c.prefix }), "network"
	case len(p.list) >= p.max || full:
		return p.oldest(func(*connSlot) bool { return true }), "all"
	}
	return nil, ""
}

// oldest is the oldest matching connection that has not finished its key exchange, else
// the oldest matching one.
func (p *preauth) oldest(match func(*connSlot) bool) *connSlot {
	var first *connSlot
	for _, o := range p.list {
		if !match(o) {
			continue
		}
		if !o.kex {
			return o
		}
		if first == nil {
			first = o
		}
	}
	return first
}

func (p *preauth) add(c *connSlot) {
	c.pending = true
	p.list = append(p.list, c)
	p.byAddr[c.addr]++
	p.byPrefix[c.prefix]++
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
