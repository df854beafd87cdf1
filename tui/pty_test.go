package tui

import (
	"bytes"
	"context"
	"io"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	xterm "github.com/charmbracelet/x/term"
	"github.com/creack/pty"

	"sharpflat/lab"
	"sharpflat/lab/train"
)

// A real program on a pseudo-terminal: keys are written to the pty's master side in the
// bytes a terminal sends, go through the line discipline and bubbletea's input parser, and
// the screen is read back from the master as a terminal would.

// ptyLab is a running engine and a program on a pty.
type ptyLab struct {
	e    *lab.Engine
	ptmx *os.File

	mu  sync.Mutex
	out bytes.Buffer  // the screen's bytes since the last mark
	got chan struct{} // a signal per read
}

// startPTY runs e and a program on it, on a w×h pty, until the test ends.
func startPTY(tb testing.TB, cfg train.Config, opts lab.Options, w, h int) *ptyLab {
	tb.Helper()
	e, err := lab.New(cfg, opts)
	if err != nil {
		tb.Fatal(err)
	}
	ptmx, tty, err := pty.Open()
	if err != nil {
		tb.Skipf("no pseudo-terminal here: %v", err)
	}
	if err := pty.Setsize(ptmx, &pty.Winsize{Cols: uint16(w), Rows: uint16(h)}); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	engineDone := make(chan struct{})
	go func() { defer close(engineDone); e.Run(ctx) }()
	// The tty in raw mode, as bubbletea would set it; the program reads it through a plain
	// io.Reader (bubbletea's epoll cancel reader races with its own shutdown under load).
	if _, err := xterm.MakeRaw(tty.Fd()); err != nil {
		tb.Fatal(err)
	}
	m := New(e, asciiRenderer(), Options{NoConfirm: true, NoWrite: true})
	p := tea.NewProgram(m, tea.WithInput(struct{ io.Reader }{tty}), tea.WithOutput(tty), tea.WithContext(ctx))
	progDone := make(chan struct{})
	go func() { defer close(progDone); p.Run() }()
	l := &ptyLab{e: e, ptmx: ptmx, got: make(chan struct{}, 1)}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		buf := make([]byte, 1<<16)
		for {
			n, err := ptmx.Read(buf)
			if n > 0 {
				l.mu.Lock()
				l.out.Write(buf[:n])
				l.mu.Unlock()
				select {
				case l.got <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	tb.Cleanup(func() {
		cancel()
		<-progDone
		<-engineDone
		m.Close()
		// The program's input goroutine may still sit in a blocking read of the tty, which
		// keeps the tty open: one more byte ends that read (the program is cancelled, so it
		// returns), then closing the tty ends the master's reads.
		ptmx.Write([]byte{0})
		tty.Close()
		<-readDone
		ptmx.Close()
	})
	return l
}

// mark forgets the screen so far: waitFor then looks only at what comes after.
func (l *ptyLab) mark() {
	l.mu.Lock()
	l.out.Reset()
	l.mu.Unlock()
}

// waitFor waits until the screen written since the last mark contains s.
func (l *ptyLab) waitFor(tb testing.TB, s string) {
	tb.Helper()
	timeout := time.After(budget) // a hang guard, not a speed requirement
	for {
		l.mu.Lock()
		ok := bytes.Contains(l.out.Bytes(), []byte(s))
		l.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-l.got:
		case <-timeout:
			l.mu.Lock()
			tail := l.out.String()
			l.mu.Unlock()
			tb.Fatalf("%q not on the screen within %v; the screen since the mark:\n%s", s, budget, tail)
		}
	}
}

// TestBurstOfKeysAllCount writes "kk--" to the terminal in one write, as a held key or a
// slow link delivers keys, and checks that all four presses reach the engine: k down by 2,
// η divided by 1.25 twice.
func TestBurstOfKeysAllCount(t *testing.T) {
	cfg, err := train.Preset("demo")
	if err != nil {
		t.Fatal(err)
	}
	cfg.HessianSet = 256
	l := startPTY(t, cfg, lab.Options{StartPaused: true}, 120, 40)
	l.waitFor(t, "paused")
	var c0 train.Config
	l.e.Do(func(tr *train.Trainer) { c0 = tr.Config() })
	l.mark()
	if _, err := l.ptmx.Write([]byte("kk--")); err != nil {
		t.Fatal(err)
	}
	wantLR := c0.LR / 1.25 / 1.25
	// The last press is acknowledged on the screen, and the engine has all four.
	l.waitFor(t, "η "+num(wantLR, 4)+":")
	var c train.Config
	l.e.Do(func(tr *train.Trainer) { c = tr.Config() })
	if c.K != c0.K-2 || !near(c.LR, wantLR) {
		t.Errorf("after \"kk--\": k %d, η %v; want k %d, η %v", c.K, c.LR, c0.K-2, wantLR)
	}
}

// BenchmarkKeyToScreen measures the time from a key written to the terminal to the frame
// that acknowledges it, through the real program on a pty while the engine trains: the
// demo preset with a per-step refresh, and mnist, each alone and in a race of Dom-SGD, SGD
// and Bulk-SGD (the key then acts on the focused arm). It reports the median and the 95th
// percentile in ms.
//
//	go test ./tui -run '^$' -bench KeyToScreen -benchtime 200x
func BenchmarkKeyToScreen(b *testing.B) {
	for _, tc := range []struct {
		preset string
		race   bool
	}{{"demo", false}, {"mnist", false}, {"demo", true}, {"mnist", true}} {
		name, opts := tc.preset, lab.Options{}
		if tc.race {
			name, opts.Race = tc.preset+"-race3", lab.DefaultRace
		}
		b.Run(name, func(b *testing.B) {
			cfg, err := train.Preset(tc.preset)
			if err != nil {
				b.Fatal(err)
			}
			l := startPTY(b, cfg, opts, 120, 40)
			l.waitFor(b, "running")
			if tc.race {
				l.waitFor(b, "race of 3")
			}
			keyToScreen(b, l)
		})
	}
}

// keyToScreen times b.N keys (η up, η down, …) from their write to the terminal until the
// frame that shows the new η, and reports the p50 and p95 in ms.
func keyToScreen(b *testing.B, l *ptyLab) {
	var c0 train.Config
	l.e.Do(func(tr *train.Trainer) { c0 = tr.Config() })
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		key, lr := "+", c0.LR*1.25
		if i%2 == 1 {
			key, lr = "-", c0.LR
		}
		l.mark()
		t0 := time.Now()
		if _, err := l.ptmx.Write([]byte(key)); err != nil {
			b.Fatal(err)
		}
		l.waitFor(b, "η "+num(lr, 4)+":")
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(f float64) float64 {
		return float64(lat[min(len(lat)-1, int(f*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.95), "p95-ms")
}
