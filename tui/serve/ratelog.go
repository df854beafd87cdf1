package serve

import (
	"sync"
	"time"

	"github.com/charmbracelet/log"
)

// rateLog keeps a flood from flooding the log: a line of a given kind is written at most
// once per period, with the number of lines of that kind left out since the last one
// ("suppressed"). A connection flood makes thousands of refusals and evictions a second;
// the log says that it happens, and how much, without a line for each.
type rateLog struct {
	log    *log.Logger
	period time.Duration

	mu    sync.Mutex
	kinds map[string]*rateLogKind
}

type rateLogKind struct {
	last       time.Time
	suppressed int
}

// logFloodPeriod is how often a line of one kind may be logged during a flood.
const logFloodPeriod = 10 * time.Second

func newRateLog(l *log.Logger, period time.Duration) *rateLog {
	return &rateLog{log: l, period: period, kinds: map[string]*rateLogKind{}}
}

// allow reports whether a line of kind may be written now, and how many were left out
// before it (to be logged with it).
func (r *rateLog) allow(kind string, now time.Time) (ok bool, suppressed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.kinds[kind]
	if k == nil {
		k = &rateLogKind{}
		r.kinds[kind] = k
	}
	if !k.last.IsZero() && now.Sub(k.last) < r.period {
		k.suppressed++
		return false, 0
	}
	k.last, suppressed, k.suppressed = now, k.suppressed, 0
	return true, suppressed
}

// print writes msg at level, keyed by msg, unless one was written less than a period ago.
func (r *rateLog) print(level log.Level, msg string, kv ...any) {
	ok, n := r.allow(msg, time.Now())
	if !ok {
		return
	}
	if n > 0 {
		kv = append(kv, "suppressed", n)
	}
	r.log.Log(level, msg, kv...)
}
