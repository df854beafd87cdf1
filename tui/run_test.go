package tui

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
	"go.uber.org/goleak"

	"sharpflat/lab"
	"sharpflat/lab/train"
)

// fastConfig is the demo preset with cheaper refreshes, so the engine runs at hundreds of
// steps a second and snapshots come at the full 20 Hz.
func fastConfig(t testing.TB) train.Config {
	cfg, err := train.Preset("demo")
	if err != nil {
		t.Fatal(err)
	}
	cfg.HessianSet, cfg.RefreshEvery = 256, 10
	return cfg
}

// TestFullSpeedWithResizes runs the engine flat out under a program while the terminal is
// resized in a burst and keys arrive (run it with -race).
func TestFullSpeedWithResizes(t *testing.T) {
	e, err := lab.New(fastConfig(t), lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go e.Run(ctx)
	defer func() { cancel(); <-e.Done() }()

	m := New(e, asciiRenderer(), Options{})
	defer m.Close()
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40))
	sizes := [][2]int{{80, 24}, {200, 60}, {40, 10}, {120, 40}, {61, 18}, {159, 45}, {1, 1}, {100, 30}}
	keys := []tea.KeyMsg{{Type: tea.KeyRight}, typed("+"), typed("?"), typed("-"), typed("?"), {Type: tea.KeyLeft}, typed("e")}
	for i := 0; i < 60; i++ {
		s := sizes[i%len(sizes)]
		tm.Send(tea.WindowSizeMsg{Width: s[0], Height: s[1]})
		if i%9 == 0 {
			tm.Send(keys[(i/9)%len(keys)])
		}
	}
	tm.Send(tea.WindowSizeMsg{Width: 120, Height: 40})
	// Training has begun when the header counts a step (a long first refresh publishes its
	// progress at step 0).
	stepped := regexp.MustCompile(`step [1-9]`)
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return stepped.Match(b) },
		teatest.WithDuration(budget), teatest.WithCheckInterval(20*time.Millisecond))
	// A few more snapshots at full speed: the engine gets 50 steps further while the
	// program draws (an event, however long it takes).
	watch := e.Subscribe()
	defer watch.Cancel()
	from := -1
	waitSnapshot(t, watch, "50 more steps", func(s lab.Snapshot) bool {
		if from < 0 {
			from = s.Step
		}
		return s.Step >= from+50
	})
	tm.Send(typed("qq"))
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(budget)).(Model)
	if !fm.have || fm.snap.Step == 0 {
		t.Errorf("the model saw no training: step %d", fm.snap.Step)
	}
	checkScreen(t, fm.View(), 120, 40)
}

// waitSnapshot waits, under the package's hang guard (budget), for a snapshot of sub in which
// cond holds.
func waitSnapshot(t *testing.T, sub *lab.Subscription, what string, cond func(lab.Snapshot) bool) {
	t.Helper()
	guard := time.After(budget)
	for {
		select {
		case s, ok := <-sub.C():
			if !ok {
				t.Fatalf("%s: the engine stopped", what)
			}
			if cond(s) {
				return
			}
		case <-guard:
			t.Fatalf("%s: not seen within %v (a hang)", what, budget)
		}
	}
}

// screenWatch is a program's output that closes seen once the screen has shown what re
// matches: an event to wait on, where polling a buffer would race with the writer.
type screenWatch struct {
	mu   sync.Mutex
	buf  []byte
	re   *regexp.Regexp
	seen chan struct{}
}

func newScreenWatch(re *regexp.Regexp) *screenWatch {
	return &screenWatch{re: re, seen: make(chan struct{})}
}

func (w *screenWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.re == nil {
		return len(p), nil // seen already: nothing more to keep
	}
	w.buf = append(w.buf, p...)
	if w.re.Match(w.buf) {
		close(w.seen)
		w.re, w.buf = nil, nil
	}
	return len(p), nil
}

// runLab runs RunWith on a pipe for input and a buffer for output in a private TMPDIR, types
// keys once training has begun, and returns RunWith's error and the spool's parent dir.
func runLab(t *testing.T, keys string, popts ...tea.ProgramOption) (error, string) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	in, typeIn := io.Pipe()
	defer typeIn.Close()
	out := newScreenWatch(regexp.MustCompile(`step [1-9]`))
	errc := make(chan error, 1)
	go func() {
		errc <- RunWith(context.Background(), fastConfig(t), Options{},
			append([]tea.ProgramOption{tea.WithInput(in), tea.WithOutput(out)}, popts...)...)
	}()
	// Training has begun when the header counts a step.
	guard := time.After(budget)
	select {
	case <-out.seen:
	case err := <-errc:
		t.Fatalf("RunWith returned before training began: %v", err)
	case <-guard:
		t.Fatalf("training did not begin within %v (a hang)", budget)
	}
	go typeIn.Write([]byte(keys))
	select {
	case err := <-errc:
		return err, tmp
	case <-guard:
		t.Fatalf("RunWith did not return within %v (a hang)", budget)
	}
	return nil, tmp
}

// teamHelpers ignores the helpers of internal/team, which run the chunks of the engine's
// passes: started on the first pass, they live as long as the process, by design.
var teamHelpers = goleak.IgnoreAnyFunction("sharpflat/internal/team.help")

// TestRunQuitCleansUp: q ends Run without an error, stops the engine, removes the spool and
// leaves no goroutine behind.
func TestRunQuitCleansUp(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), teamHelpers)
	err, tmp := runLab(t, "qq")
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "sharpflat-run-*")); len(left) != 0 {
		t.Errorf("spool left behind: %v", left)
	}
}

// TestRunPanicCleansUp: a panic inside the program restores the terminal (bubbletea), and
// Run still stops the engine and removes the spool, returning the panic as an error.
func TestRunPanicCleansUp(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), teamHelpers)
	boom := tea.WithFilter(func(_ tea.Model, msg tea.Msg) tea.Msg {
		if k, ok := msg.(tea.KeyMsg); ok && k.String() == "x" {
			panic("boom")
		}
		return msg
	})
	// bubbletea prints the panic and its stack: keep the test's output quiet.
	stdout, stderr := os.Stdout, os.Stderr
	devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	os.Stdout, os.Stderr = devnull, devnull
	err, tmp := runLab(t, "x", boom)
	os.Stdout, os.Stderr = stdout, stderr
	devnull.Close()
	if !errors.Is(err, tea.ErrProgramPanic) {
		t.Errorf("Run returned %v, want a program panic", err)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "sharpflat-run-*")); len(left) != 0 {
		t.Errorf("spool left behind: %v", left)
	}
}

// TestEngineStopShowsStopped: when the engine stops, the model says so and keeps the
// charts; steering keys are refused.
func TestEngineStopShowsStopped(t *testing.T) {
	e, err := lab.New(fastConfig(t), lab.Options{MaxSteps: 5})
	if err != nil {
		t.Fatal(err)
	}
	go e.Run(context.Background())
	m := New(e, asciiRenderer(), Options{})
	mm, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m = mm.(Model)
	cmd := m.Init()
	for {
		msg := cmd()
		mm, cmd = m.Update(msg)
		m = mm.(Model)
		if _, done := msg.(engineStoppedMsg); done {
			break
		}
	}
	v := m.View()
	if !strings.Contains(v, "stopped") || !strings.Contains(v, "step 5") {
		t.Errorf("after the engine stopped:\n%s", v)
	}
	mm, _ = m.Update(typed("b"))
	if s := mm.(Model).status; !strings.Contains(s, "stopped") {
		t.Errorf("status after a key on a stopped engine: %q", s)
	}
}
