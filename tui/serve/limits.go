package serve

import (
	"fmt"
	"sync"
	"time"
)

// limits counts connections and sessions against their caps.
type limits struct {
	maxConns, maxSessions, maxPerKey, maxPerLink int
	now                                          func() time.Time // the clock of the per-source rates (tests may replace it)

	mu       sync.Mutex
	conns    int
	pre      preauth // the pending connections among conns
	sessions int
	perKey   map[string]int
}

func newLimits(c *Config) *limits {
	return &limits{maxConns: c.MaxConns, maxSessions: c.MaxSessions, maxPerKey: c.MaxPerKey,
		maxPerLink: c.MaxPerLink, pre: newPreauth(c.MaxPreauth), perKey: map[string]int{}, now: time.Now}
}

// connSlot is one admitted connection: counted in conns until released, and pending (in
// the pre-auth table) until settled.
type connSlot struct {
	l            *limits
	addr, prefix string
	rateKey      string // the source its new connections are counted against (connRates)
	hot          bool   // its source had used up its allowance of new connections
	evict        func() // closes the connection to make room for a newer one
	pending      bool   // in l.pre
	kex          bool   // finished the key exchange
	open         bool   // counted in l.conns
}

// admission is what acquireConn decided.
type admission struct {
	slot     *connSlot // nil: refused (see preauth.victim)
	victim   *connSlot // closed to make room (the caller calls evict, outside the lock)
	share    string    // which share was full: "address", "network", "all"
	hot      bool      // the source had used up its allowance of new connections
	pressure bool      // more than half the pre-auth pool taken: a shorter handshake deadline
}

// acquireConn admits a connection from host, pending until settled (authenticated, or its
// first session) and counted until released; evict closes it if a newer connection needs
// its slot (see preauth).
func (l *limits) acquireConn(host string, evict func()) admission {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	c := &connSlot{l: l, addr: host, prefix: prefixOf(host), rateKey: rateKey(host), evict: evict}
	c.hot = l.pre.rates.take(c.rateKey, now)
	full := l.conns >= l.maxConns
	v, share := l.pre.victim(c, full, now)
	if v == nil && share != "" {
		l.pre.refused++
		return admission{share: share, hot: c.hot}
	}
	if v != nil {
		l.pre.remove(v)
		l.pre.evicted++
		v.open = false // its slot is c's from now on; its release will not count it again
		l.conns--
	}
	l.pre.add(c)
	c.open = true
	l.conns++
	return admission{slot: c, victim: v, share: share, hot: c.hot, pressure: l.pre.underPressure()}
}

// settle takes the connection out of the pre-auth table. Idempotent.
func (c *connSlot) settle() {
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	c.l.pre.remove(c)
}

// keyExchanged records that the connection finished its key exchange.
func (c *connSlot) keyExchanged() {
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	c.kex = true
}

// release gives the connection's slots back. Idempotent.
func (c *connSlot) release() {
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	c.l.pre.remove(c)
	if c.open {
		c.open = false
		c.l.conns--
	}
}

// closePending closes every pending connection (the server is closing: charmbracelet/ssh
// closes only connections past their handshake).
func (l *limits) closePending() {
	l.mu.Lock()
	var evict []func()
	for _, c := range l.pre.list {
		evict = append(evict, c.evict)
	}
	l.mu.Unlock()
	for _, f := range evict {
		f()
	}
}

// preauthStats are the pre-auth table's figures (tests, load reports).
func (l *limits) preauthStats() (pending, peak, evicted int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pre.list), l.pre.peak, l.pre.evicted
}

// refusedConns is how many newcomers were refused: hot ones without a slot they may take,
// and any while every connection is authenticated (tests, load reports).
func (l *limits) refusedConns() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pre.refused
}

// limitError is a refusal: what the user reads, and what the log records.
type limitError struct {
	limit string // "sessions", "per-key sessions", "per-link sessions", "queue"
	max   int
	msg   string
}

func (e *limitError) Error() string { return e.msg }

// acquireSession takes a session slot for id, or says which cap refused it. A shared
// watcher link (one token for a class) has a cap of its own per source address, MaxPerLink:
// a class behind one NAT address joins on it; every other identity has MaxPerKey.
func (l *limits) acquireSession(id identity) (release func(), err *limitError) {
	key := id.capKey()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sessions >= l.maxSessions {
		return nil, &limitError{"sessions", l.maxSessions,
			fmt.Sprintf("the server is full (%d sessions); try again later", l.maxSessions)}
	}
	if id.token != "" && id.shared {
		if l.perKey[key] >= l.maxPerLink {
			return nil, &limitError{"per-link sessions", l.maxPerLink,
				fmt.Sprintf("this link already has %d session(s) open from your address, the most allowed per shared link and address; close one first", l.maxPerLink)}
		}
	} else if l.perKey[key] >= l.maxPerKey {
		return nil, &limitError{"per-key sessions", l.maxPerKey,
			fmt.Sprintf("you already have %d session(s) open, the most allowed per key; close one first", l.maxPerKey)}
	}
	l.sessions++
	l.perKey[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.sessions--
			if l.perKey[key]--; l.perKey[key] == 0 {
				delete(l.perKey, key)
			}
		})
	}, nil
}

// slots is the cap on engines training at once, with a FIFO queue whose members learn
// their position whenever it changes.
type slots struct {
	mu       sync.Mutex
	free     int
	maxQueue int
	queue    []*ticket
}

// ticket is a place in line, then a slot once granted.
type ticket struct {
	ready chan struct{} // closed when the slot is granted
	pos   chan int      // the latest position (1 = next), latest wins
	done  bool          // released or left
}

func newSlots(n, maxQueue int) *slots { return &slots{free: n, maxQueue: maxQueue} }

// enter returns a granted ticket, a queued ticket (pos carries its position), or a
// refusal when the queue is full.
func (q *slots) enter() (*ticket, *limitError) {
	q.mu.Lock()
	defer q.mu.Unlock()
	t := &ticket{ready: make(chan struct{}), pos: make(chan int, 1)}
	if q.free > 0 && len(q.queue) == 0 {
		q.free--
		close(t.ready)
		return t, nil
	}
	if len(q.queue) >= q.maxQueue {
		return nil, &limitError{"queue", q.maxQueue, "the lab is full: every engine is training and the queue is full; try again later"}
	}
	q.queue = append(q.queue, t)
	t.pos <- len(q.queue)
	return t, nil
}

// leave gives back a granted slot (to the first in line) or leaves the queue. Idempotent.
func (q *slots) leave(t *ticket) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if t.done {
		return
	}
	t.done = true
	select {
	case <-t.ready:
		q.free++
	default:
		for i, u := range q.queue {
			if u == t {
				q.queue = append(q.queue[:i], q.queue[i+1:]...)
				break
			}
		}
	}
	for q.free > 0 && len(q.queue) > 0 {
		q.free--
		close(q.queue[0].ready)
		q.queue = q.queue[1:]
	}
	for i, u := range q.queue {
		offer(u.pos, i+1)
	}
}

// waiting is the queue's length.
func (q *slots) waiting() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queue)
}

// offer puts v in a one-slot channel, replacing an unread value (the latest wins).
func offer[T any](c chan T, v T) {
	for {
		select {
		case c <- v:
			return
		default:
			select {
			case <-c:
			default:
			}
		}
	}
}
