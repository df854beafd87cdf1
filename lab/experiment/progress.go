package experiment

import (
	"fmt"
	"io"
	"sync"
	"time"

	"sharpflat/internal/safetext"
)

// progress counts finished runs and work, and prints a line now and then. A nil *progress
// reports nothing.
type progress struct {
	mu                   sync.Mutex
	log                  io.Writer
	name                 string
	start, lastLine      time.Time
	total, done, skipped int
	running              int
	costTotal, costDone  float64
}

// newProgress reports to log, escaping what a terminal would act on: the lines name arms,
// whose ids come from the plan on shared storage.
func newProgress(log io.Writer, name string) *progress {
	if log != nil {
		log = safetext.NewWriter(log)
	}
	return &progress{log: log, name: name, start: time.Now()}
}

func (p *progress) addCost(c float64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.costDone += c
	due := time.Since(p.lastLine) > 10*time.Second
	p.mu.Unlock()
	if due {
		p.tick()
	}
}

func (p *progress) setRunning(d int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.running += d
	p.mu.Unlock()
}

func (p *progress) line(format string, a ...any) {
	if p.log == nil {
		return
	}
	p.lastLine = time.Now()
	fmt.Fprintf(p.log, format, a...)
}

func (p *progress) eta() string {
	el := time.Since(p.start)
	switch {
	case p.costDone > 0 && p.costTotal > p.costDone:
		return "~" + fmtDuration(time.Duration(float64(el)*(p.costTotal-p.costDone)/p.costDone))
	case p.costTotal > 0 && p.costDone >= p.costTotal:
		return "0s"
	}
	return "—"
}

func (p *progress) begin() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.skipped > 0 {
		p.line("%s: %d runs, %d already complete (resuming)\n", p.name, p.total, p.skipped)
	} else {
		p.line("%s: %d runs\n", p.name, p.total)
	}
}

func (p *progress) end() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.line("%s: %d/%d runs complete in %s\n", p.name, p.done, p.total, fmtDuration(time.Since(p.start)))
}

func (p *progress) armDone(id string, from, to float64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	p.line("%s: %d/%d runs · %s done (train loss %.4g → %.4g) · %d running · %s elapsed · ETA %s\n",
		p.name, p.done, p.total, id, from, to, p.running, fmtDuration(time.Since(p.start)), p.eta())
}

func (p *progress) tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.line("%s: %d/%d runs · %d running · %s elapsed · ETA %s\n", p.name, p.done, p.total, p.running, fmtDuration(time.Since(p.start)), p.eta())
}

func fmtDuration(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(10 * time.Second).String()
}
