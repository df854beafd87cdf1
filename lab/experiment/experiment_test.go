package experiment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"sharpflat/lab/train"
	"sharpflat/nn"
)

// quickRun runs the fast variant of an experiment in dir.
func quickRun(t *testing.T, ctx context.Context, name, dir string, s Sweep) (*Report, error) {
	t.Helper()
	x, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x.BaseConfig(true)
	if err != nil {
		t.Fatal(err)
	}
	s.Quick = true
	return x.Run(ctx, c, s, Options{RunOptions: RunOptions{Dir: dir, Jobs: 2}, Command: "test"})
}

// Every experiment's fast variant runs end to end and writes its runs, summary.csv, the
// figures (valid PNGs) and report.md.
func TestExperimentsQuickEndToEnd(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			rep, err := quickRun(t, context.Background(), name, dir, Sweep{Warmup: -1})
			if err != nil {
				t.Fatal(err)
			}
			res, err := LoadResults(dir)
			if err != nil {
				t.Fatal(err)
			}
			if want := len(res.Plan.Units()); len(res.Arms) != want || want == 0 {
				t.Fatalf("%d complete arms, plan has %d", len(res.Arms), want)
			}
			for _, f := range []string{"report.md", "summary.csv", "plan.json"} {
				if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
					t.Errorf("%s: missing or empty (%v)", f, err)
				}
			}
			if len(rep.Figures) == 0 || len(rep.Findings) == 0 || len(rep.Tables) == 0 {
				t.Errorf("report has %d figures, %d findings, %d tables", len(rep.Figures), len(rep.Findings), len(rep.Tables))
			}
			for _, fig := range rep.Figures {
				f, err := os.Open(filepath.Join(dir, fig.File))
				if err != nil {
					t.Fatal(err)
				}
				img, err := png.Decode(f)
				f.Close()
				if err != nil {
					t.Fatalf("%s: %v", fig.File, err)
				}
				if b := img.Bounds(); b.Dx() < 300 || b.Dy() < 200 {
					t.Errorf("%s: %v, too small to read", fig.File, b)
				}
			}
			md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
			for _, fig := range rep.Figures {
				if !strings.Contains(string(md), fig.File) {
					t.Errorf("report.md does not show %s", fig.File)
				}
			}
		})
	}
}

// The arms of a group start from the same point, and the SGD arm of switch continues the
// warm-up exactly as one uninterrupted run (same θ, optimizer state and minibatch order).
func TestArmsShareTheSwitchPoint(t *testing.T) {
	dir := t.TempDir()
	if _, err := quickRun(t, context.Background(), "switch", dir, Sweep{Warmup: -1}); err != nil {
		t.Fatal(err)
	}
	res, err := LoadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	g := res.Plan.Groups[0]
	var start float64
	for i, r := range res.Arms {
		if i == 0 {
			start = float64(r.Start.TrainLoss)
		} else if float64(r.Start.TrainLoss) != start {
			t.Errorf("arm %s starts at loss %v, arm 0 at %v", r.Arm.Name, r.Start.TrainLoss, start)
		}
	}
	// One engine trained straight through, without the switch, checkpoint and rollback.
	tr, err := train.New(g.Config)
	if err != nil {
		t.Fatal(err)
	}
	for tr.StepCount() < g.Warmup+g.Arms[0].Steps {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	want, _, _, _, err := tr.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	got := float64(res.Find(g.Name, "sgd").End.TrainLoss)
	// d = P_dom g + P_bulk g equals g up to rounding, whatever the basis.
	if math.Abs(got-want) > 1e-9*want {
		t.Errorf("SGD arm ends at train loss %.12g, an uninterrupted run at %.12g", got, want)
	}
	if dom := res.Find(g.Name, "dom"); float64(dom.End.TrainLoss) == got {
		t.Errorf("Dom-SGD arm ended where SGD did: the switch had no effect")
	}
}

// A rerun skips complete runs and redoes incomplete ones, with the same results; a rerun with
// other settings in the same directory is refused.
func TestResumeRedoesOnlyIncompleteRuns(t *testing.T) {
	dir := t.TempDir()
	if _, err := quickRun(t, context.Background(), "switch", dir, Sweep{Warmup: -1}); err != nil {
		t.Fatal(err)
	}
	res, _ := LoadResults(dir)
	g := res.Plan.Groups[0].Name
	keep := filepath.Join(res.RunDirOf(g, "sgd"), completeFile)
	keepRaw, _ := os.ReadFile(keep)
	st0, _ := os.Stat(keep)
	redo := res.RunDirOf(g, "bulk")
	before := res.Find(g, "bulk").End.TrainLoss
	// An interrupted arm: no complete.json, a half-written metrics file.
	if err := os.Remove(filepath.Join(redo, completeFile)); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	c, _ := Switch.BaseConfig(true)
	_, err := Switch.Run(context.Background(), c, Sweep{Warmup: -1, Quick: true},
		Options{RunOptions: RunOptions{Dir: dir, Jobs: 2, Log: &log}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "2 already complete (resuming)") {
		t.Errorf("log does not say it resumes:\n%s", log.String())
	}
	res2, _ := LoadResults(dir)
	if after := res2.Find(g, "bulk").End.TrainLoss; after != before {
		t.Errorf("redone arm ends at %v, first time at %v", after, before)
	}
	raw, _ := os.ReadFile(keep)
	st1, _ := os.Stat(keep)
	if !bytes.Equal(raw, keepRaw) || !st1.ModTime().Equal(st0.ModTime()) {
		t.Errorf("a complete run was redone")
	}
	_, err = quickRun(t, context.Background(), "switch", dir, Sweep{Warmup: -1, Steps: 7})
	if err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("rerun with other settings: err %v, want a refusal", err)
	}
}

// cancelAfter is a progress log that cancels the context once n runs are done.
type cancelAfter struct {
	mu     sync.Mutex
	n      int
	cancel context.CancelFunc
	buf    bytes.Buffer
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	if strings.Contains(string(p), " done (") {
		c.n--
		if c.n == 0 {
			c.cancel()
		}
	}
	return len(p), nil
}

// An interrupted experiment keeps its finished runs, says how to resume, and resumes.
func TestInterruptKeepsFinishedRuns(t *testing.T) {
	dir := t.TempDir()
	c, _ := Stability.BaseConfig(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &cancelAfter{n: 2, cancel: cancel}
	_, err := Stability.Run(ctx, c, Sweep{Warmup: -1, Quick: true},
		Options{RunOptions: RunOptions{Dir: dir, Jobs: 1, Log: log}})
	if !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), "run the same command again") {
		t.Fatalf("err %v, want ErrInterrupted with a hint", err)
	}
	res, _ := LoadResults(dir)
	total := len(res.Plan.Units())
	if len(res.Arms) < 2 || len(res.Arms) >= total {
		t.Fatalf("%d of %d runs complete after the interrupt, want at least 2 and not all", len(res.Arms), total)
	}
	if _, err := quickRun(t, context.Background(), "stability", dir, Sweep{Warmup: -1}); err != nil {
		t.Fatal(err)
	}
	res, _ = LoadResults(dir)
	if len(res.Arms) != total {
		t.Errorf("%d of %d runs complete after resuming", len(res.Arms), total)
	}
}

func TestSweepValidation(t *testing.T) {
	c, _ := Stability.BaseConfig(true)
	for _, tc := range []struct {
		s    Sweep
		want string
	}{
		{Sweep{Warmup: -1, LRs: []float64{-1}}, "--lrs"},
		{Sweep{Warmup: -1, Ks: []int{0}}, "--ks"},
		{Sweep{Warmup: -1, Batches: []int{-2}}, "--batches"},
		{Sweep{Warmup: -1, Losses: []nn.Loss{nn.Loss(7)}}, "--losses"},
		{Sweep{Warmup: -1, Alphas: []float64{2}}, "--alphas"},
		{Sweep{Warmup: -1, Seeds: []uint64{}}, "--seeds"},
	} {
		tc.s.Quick = true
		_, err := Stability.Run(context.Background(), c, tc.s, Options{RunOptions: RunOptions{Dir: t.TempDir()}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want one naming %s", tc.s, err, tc.want)
		}
	}
	if _, err := Lookup("nope"); err == nil || !strings.Contains(err.Error(), "allowed: switch") {
		t.Errorf("unknown experiment: %v", err)
	}
}

// WriteDocs copies the figures and replaces only its generated section, keeping the rest.
func TestWriteDocsKeepsCommentary(t *testing.T) {
	dir, docs := t.TempDir(), t.TempDir()
	rep, err := quickRun(t, context.Background(), "eos", dir, Sweep{Warmup: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteDocs(docs, dir, rep, "regen", "cmd"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(docs, "EXPERIMENTS.md")
	raw, _ := os.ReadFile(path)
	doc := strings.Replace(string(raw), "<!-- commentary: eos -->", "Hand-written: λ₁ hovers.", 1)
	os.WriteFile(path, []byte("Intro kept.\n"+doc), 0o644)
	if err := WriteDocs(docs, dir, rep, "regen", "cmd2"); err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(path)
	s := string(raw)
	for _, want := range []string{"Intro kept.", "Hand-written: λ₁ hovers.", "Command: `cmd2`", "figures/eos.png"} {
		if !strings.Contains(s, want) {
			t.Errorf("EXPERIMENTS.md lacks %q:\n%s", want, s)
		}
	}
	if strings.Count(s, "<!-- BEGIN generated: eos -->") != 1 || strings.Contains(s, "Command: `cmd`") {
		t.Errorf("section not replaced in place:\n%s", s)
	}
	if _, err := os.Stat(filepath.Join(docs, "figures", "eos.png")); err != nil {
		t.Error(err)
	}
}

// One process at a time: a live owner's lock refuses, a dead owner's lock is taken over.
func TestLockRefusesASecondProcess(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, "lock")
	os.WriteFile(lock, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644)
	_, err := quickRun(t, context.Background(), "eos", dir, Sweep{Warmup: -1})
	if err == nil || !strings.Contains(err.Error(), "in use by process") {
		t.Fatalf("err %v, want a refusal", err)
	}
	os.WriteFile(lock, []byte("1073741824\n"), 0o644) // no such process
	if _, err := quickRun(t, context.Background(), "eos", dir, Sweep{Warmup: -1}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock left behind: %v", err)
	}
}
