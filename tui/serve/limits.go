package serve

import (
	"fmt"
	"sync"
)

// limits counts connections and sessions against their caps.
type limits struct {
	maxConns, maxSessions, maxPerKey int

	mu       sync.Mutex
	conns    int
	pending  map[string]int // per source address: connections that have not started a session
	sessions int
	perKey   map[string]int
}

// maxPendingPerHost caps the connections one source address may have between accept and
// its first session (handshakes, authentication): one host cannot take every connection
// slot with connections that never log in. Authenticated sessions are not counted, so a
// classroom behind one NAT address is not limited by it.
const maxPendingPerHost = 16

func newLimits(c *Config) *limits {
	return &limits{maxConns: c.MaxConns, maxSessions: c.MaxSessions, maxPerKey: c.MaxPerKey,
		pending: map[string]int{}, perKey: map[string]int{}}
}

// acquireConn admits a connection from host, pending until settle is called (at its first
// session, or when it closes); release gives its slot back. Both are idempotent.
func (l *limits) acquireConn(host string) (settle, release func(), why string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns >= l.maxConns {
		return nil, nil, "connections"
	}
	if l.pending[host] >= maxPendingPerHost {
		return nil, nil, "connections pending per host"
	}
	l.conns++
	l.pending[host]++
	var s, r sync.Once
	settle = func() {
		s.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.pending[host]--; l.pending[host] == 0 {
				delete(l.pending, host)
			}
		})
	}
	release = func() {
		settle()
		r.Do(func() {
			l.mu.Lock()
			l.conns--
			l.mu.Unlock()
		})
	}
	return settle, release, ""
}

// limitError is a refusal: what the user reads, and what the log records.
type limitError struct {
	limit string // "sessions", "per-key sessions", "queue"
	max   int
	msg   string
}

func (e *limitError) Error() string { return e.msg }

// acquireSession takes a session slot for key, or says which cap refused it.
func (l *limits) acquireSession(key string) (release func(), err *limitError) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sessions >= l.maxSessions {
		return nil, &limitError{"sessions", l.maxSessions,
			fmt.Sprintf("the server is full (%d sessions); try again later", l.maxSessions)}
	}
	if l.perKey[key] >= l.maxPerKey {
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
		offerInt(u.pos, i+1)
	}
}

// waiting is the queue's length.
func (q *slots) waiting() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queue)
}

// offerInt puts v in a one-slot channel, replacing an unread value.
func offerInt(c chan int, v int) {
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
