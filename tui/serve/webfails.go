package serve

import (
	"sync"
	"time"
)

// failedJoins rate-limits wrong tokens per source address: an address that sent
// maxJoinFails wrong tokens within joinFailWindow is refused, without its token being
// looked at, until joinFailWindow after its last failure. A guess costs a WebSocket
// handshake; this bounds the guesses of an address to a few a minute (a token has 128 bits
// anyway: the limit is against a flood's cost and its noise in the log).
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

// blocked reports whether addr must wait, and until when.
func (f *failedJoins) blocked(addr string) (bool, time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.addrs[addr]
	if a == nil {
		return false, time.Time{}
	}
	until := a.last.Add(joinFailWindow)
	if !f.now().Before(until) {
		delete(f.addrs, addr)
		return false, time.Time{}
	}
	return a.n >= maxJoinFails, until
}

// fail counts a wrong token from addr.
func (f *failedJoins) fail(addr string) {
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
}
