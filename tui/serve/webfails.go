package serve

import (
	"net/netip"
	"sync"
	"time"
)

// failedJoins rate-limits wrong tokens per source: an address (an IPv6 /64: one host may
// hold all of it) that sent maxJoinFails wrong tokens within joinFailWindow has its further
// wrong tokens refused with a "too many" until joinFailWindow after its last failure. A
// right token is never refused here: a class behind one NAT or reverse proxy shares an
// address, and one pupil's wrong link must not keep the others out. A guess costs a
// WebSocket handshake; this bounds what a flood of them costs and its noise in the log (a
// token has 128 bits anyway).
type failedJoins struct {
	now func() time.Time

	mu    sync.Mutex
	addrs map[string]*joinFails
}

type joinFails struct {
	n    int
	last time.Time
}

const (
	maxJoinFails   = 5
	joinFailWindow = time.Minute
	maxJoinAddrs   = 4096 // addresses remembered; past it the stale ones are swept
)

func newFailedJoins() *failedJoins {
	return &failedJoins{now: time.Now, addrs: map[string]*joinFails{}}
}

// failKey is the source a wrong token is counted against: the address, or its /64 for
// IPv6.
func failKey(host string) string {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if a = a.Unmap().WithZone(""); a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}

// fail counts a wrong token from addr, and reports whether addr is now over the limit, and
// until when.
func (f *failedJoins) fail(addr string) (bool, time.Time) {
	addr = failKey(addr)
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if len(f.addrs) >= maxJoinAddrs {
		for k, a := range f.addrs {
			if !now.Before(a.last.Add(joinFailWindow)) {
				delete(f.addrs, k)
			}
		}
	}
	a := f.addrs[addr]
	if a == nil || !now.Before(a.last.Add(joinFailWindow)) {
		for k := range f.addrs { // still full of recent failures: one of them is forgotten
			if len(f.addrs) < maxJoinAddrs {
				break
			}
			delete(f.addrs, k)
		}
		a = &joinFails{}
		f.addrs[addr] = a
	}
	a.n++
	a.last = now
	return a.n > maxJoinFails, now.Add(joinFailWindow)
}
