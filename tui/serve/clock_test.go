package serve

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is the clock of the idle timeout and the session length in tests: time moves
// only when the test advances it, and each advance is checked by every running session
// before advance returns. A limit is then reached by the test's decision, never by how fast
// the machine happens to be.
type fakeClock struct {
	t    testing.TB
	mu   sync.Mutex
	now  time.Time
	subs []clockSub
}

type clockSub struct {
	c    chan time.Time
	done <-chan struct{}
}

// newFakeClock installs a fake clock in c (call it from startServer's mutate).
func newFakeClock(t testing.TB, c *Config) *fakeClock {
	f := &fakeClock{t: t, now: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	c.hooks.now = f.Now
	c.hooks.tick = f.subscribe
	return f
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) subscribe(done <-chan struct{}) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := make(chan time.Time) // unbuffered: a send is taken by the supervisor itself
	f.subs = append(f.subs, clockSub{c, done})
	return c
}

// advance moves the clock by d and has every session that has not ended check its limits:
// two ticks each, the second taken only after the first was handled (one goroutine handles
// both), so a session that reached a limit has logged it when advance returns.
func (f *fakeClock) advance(d time.Duration) {
	f.t.Helper()
	f.mu.Lock()
	f.now = f.now.Add(d)
	now, subs := f.now, append([]clockSub(nil), f.subs...)
	f.mu.Unlock()
	for _, s := range subs {
		for range 2 {
			select {
			case s.c <- now:
			case <-s.done:
			case <-time.After(hangGuard):
				f.t.Fatalf("a session's supervisor took no tick for %v", hangGuard)
			}
		}
	}
}
