package lab

import (
	"context"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sharpflat/lab/train"
)

// A requested density lands in the snapshot with its step and cost, integrates to 1, and is
// the density of the trainer's Hessian at that θ: its largest node is λ₁ of the basis
// recomputed at the same step (Lanczos from a random start, 80 steps on P = 778, finds the
// extreme eigenvalue to far below 1e-6; the refresh's λ₁ is exact to its tolerance 1e-6).
func TestDensityLandsInSnapshot(t *testing.T) {
	for _, wd := range []float64{0, 0.5} {
		c := small()
		c.WeightDecay = wd // H + λI: the basis's λ₁ and the density's top both shift by λ
		densityLands(t, c)
	}
}

func densityLands(t *testing.T, c train.Config) {
	e, sub := startPaused(t, c, Options{})
	e.StepN(3)
	await(t, sub, "three steps", func(s Snapshot) bool { return s.Step == 3 && s.Run == Paused })
	e.Recompute()
	e.ComputeDensity()
	s := await(t, sub, "the density", func(s Snapshot) bool { return s.Density.Last != nil })
	d := s.Density.Last
	if s.Density.Busy || d.Step != 3 || d.Probes != 10 || d.Steps != 80 || d.Products < d.Probes*(d.Steps-1) || d.Wall <= 0 {
		t.Fatalf("density busy %v at step %d, %d probes × %d steps, %d products, %v; want done at step 3, 10 × 80, ≈ 800 products, a wall time",
			s.Density.Busy, d.Step, d.Probes, d.Steps, d.Products, d.Wall)
	}
	integral := 0.0
	for i := 1; i < len(d.Lambda); i++ {
		integral += (d.Lambda[i] - d.Lambda[i-1]) * (d.Density[i] + d.Density[i-1]) / 2
	}
	if math.Abs(integral-1) > 1e-6 {
		t.Errorf("the density integrates to %g over its grid, want 1", integral)
	}
	l1 := s.Basis.Values[0]
	if s.Basis.Step != 3 || math.Abs(d.Hi-l1) > 1e-5*l1 {
		t.Errorf("largest node %.10g, λ₁ of the basis @%d %.10g: want the same to 1e-5", d.Hi, s.Basis.Step, l1)
	}
}

// A density is cancelled before its next product when a reset or a preset replaces the run, a
// newer request supersedes it, or the engine stops: the hook holds the job before its fifth
// product until the cause has happened, and the job then spends no product more (it checks
// the cancellation before every one). Counted in products, not seconds.
func TestDensityCancelWithinOneProduct(t *testing.T) {
	for _, cause := range []string{"reset", "preset", "newer request", "stop", "rollback", "focus"} {
		t.Run(cause, func(t *testing.T) {
			e, err := New(small(), Options{StartPaused: true})
			if err != nil {
				t.Fatal(err)
			}
			sub := e.Subscribe()
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(func() { cancel(); <-e.Done() })
			held, release := make(chan struct{}), make(chan struct{})
			var most atomic.Int64 // the most products the first job checked for
			e.dens.onProduct = func(job uint64, n int) {
				if job != 0 {
					return // the newer request's job
				}
				most.Store(int64(n))
				if n == 4 {
					close(held)
					<-release
				}
			}
			go e.Run(ctx)
			switch cause {
			case "rollback": // three steps past the start's checkpoint
				e.StepN(3)
				await(t, sub, "three steps", func(s Snapshot) bool { return s.Step == 3 })
			case "focus":
				e.Race([]ArmSpec{{Rule: "sgd"}, {Rule: "bulk"}})
				seq := e.Seq()
				await(t, sub, "the race", func(s Snapshot) bool { return s.Seq >= seq && s.Race != nil })
			}
			e.ComputeDensity()
			<-held
			switch cause {
			case "reset":
				e.Reset(0)
			case "preset":
				e.LoadPreset("demo")
			case "newer request":
				e.ComputeDensity()
			case "rollback":
				e.Rollback()
			case "focus":
				e.FocusArm(1)
			case "stop":
				cancel()
				for !e.stopping.Load() { // the engine's AfterFunc runs in a goroutine of its own
					runtime.Gosched()
				}
			}
			if cause != "stop" {
				seq := e.Seq()
				await(t, sub, cause+" applied", func(s Snapshot) bool { return s.Seq >= seq })
			}
			if cause == "rollback" || cause == "focus" {
				// The command itself cancels the job (the engine would otherwise stop it
				// below anyway): a rollback leaves the θ it was of, and the panel shows the
				// focused arm's density (found by review: both kept it).
				var going bool
				e.Do(func(*train.Trainer) { going = e.dens.cancel != nil })
				if going {
					t.Errorf("%s: the density of the θ left behind goes on", cause)
				}
			}
			close(release)
			if cause == "stop" {
				<-e.Done() // Run waits for the job
			} else {
				e.Do(func(*train.Trainer) {}) // after the command, on the engine's goroutine
				cancel()
				<-e.Done()
			}
			if n := most.Load(); n != 4 {
				t.Errorf("the job checked before product %d; want it stopped at the check before the fifth (4)", n)
			}
			if cause != "newer request" && e.dens.last != nil {
				t.Errorf("a cancelled density was installed")
			}
		})
	}
}

// Keys are answered while a density is computed: with the job held before a product, the
// engine applies a command and trains on; the density lands once the job goes on.
func TestKeysAnsweredWhileDensityRuns(t *testing.T) {
	e, err := New(small(), Options{StartPaused: true})
	if err != nil {
		t.Fatal(err)
	}
	sub := e.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); <-e.Done() })
	held, release := make(chan struct{}), make(chan struct{})
	e.dens.onProduct = func(_ uint64, n int) {
		if n == 1 {
			close(held)
			<-release
		}
	}
	go e.Run(ctx)
	e.ComputeDensity()
	<-held
	e.SetLR(0.05)
	e.Resume()
	seq := e.Seq()
	s := await(t, sub, "η set and steps taken while the density is held", func(s Snapshot) bool {
		return s.Seq >= seq && s.Step >= 3
	})
	if s.Config.LR != 0.05 || !s.Density.Busy {
		t.Errorf("η %g, density busy %v; want 0.05 and busy", s.Config.LR, s.Density.Busy)
	}
	close(release)
	s = await(t, sub, "the density", func(s Snapshot) bool { return s.Density.Last != nil })
	if s.Density.Last.Step != 0 {
		t.Errorf("the density is of step %d, want 0 (asked for there)", s.Density.Last.Step)
	}
}

// Scheduled densities: every DensityEvery-th refresh while a subscriber shows it, never
// without one.
func TestDensityEvery(t *testing.T) {
	e, err := New(small(), Options{DensityEvery: 2, MaxSteps: 6})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.dens.gen != 0 || e.dens.last != nil || e.dens.refreshes != 6 {
		t.Errorf("without a subscriber showing it: job %d, density %v after %d refreshes; want none after 6", e.dens.gen, e.dens.last, e.dens.refreshes)
	}

	e, sub := startPaused(t, small(), Options{DensityEvery: 2})
	sub.WantDensity(true)
	e.Resume()
	s := await(t, sub, "a scheduled density", func(s Snapshot) bool { return s.Density.Last != nil })
	if st := s.Density.Last.Step; st == 0 || st%2 != 0 || s.Density.Every != 2 {
		t.Errorf("scheduled density at step %d (every %d); want after an even number of per-step refreshes", st, s.Density.Every)
	}
}

// BenchmarkDensityDemo and BenchmarkDensityMnist are the lab's density on the demo and mnist
// presets (10 probes × 80 steps on the Hessian set: P = 778 on 1000 examples, P = 7 690 on
// 1024) at θ after 200 steps, as the engine's job computes it: issue 21 asks ≤ 1 s and ≤ 10 s
// on 2 idle cores.
func BenchmarkDensityDemo(b *testing.B)  { benchmarkDensity(b, "demo") }
func BenchmarkDensityMnist(b *testing.B) { benchmarkDensity(b, "mnist") }

func benchmarkDensity(b *testing.B, preset string) {
	c, err := train.Preset(preset)
	if err != nil {
		b.Fatal(err)
	}
	c.RefreshEvery = 0
	tr, err := train.New(c)
	if err != nil {
		b.Fatal(err)
	}
	for range 200 {
		if _, err := tr.Step(); err != nil {
			b.Fatal(err)
		}
	}
	_, _, h := tr.Data()
	b.ResetTimer()
	for range b.N {
		if _, err := computeDensity(tr.Model(), tr.Theta(), h, tr.StepCount(), c.Seed, c.WeightDecay, func() bool { return false }); err != nil {
			b.Fatal(err)
		}
	}
}

// A density that would not fit in memory beside the runs is refused with the estimate, and
// nothing is computed: the limit is set just above the trainer's own footprint.
func TestDensityRefusedOverTheMemoryLimit(t *testing.T) {
	e, sub := startPaused(t, small(), Options{})
	var f train.Footprint
	e.Do(func(tr *train.Trainer) { f = tr.Footprint() })
	train.SetMemoryLimit(int64(f.Total()) + 1000)
	t.Cleanup(func() { train.SetMemoryLimit(0) })
	e.ComputeDensity()
	s := await(t, sub, "the refusal", func(s Snapshot) bool { return s.Density.Err != "" })
	if s.Density.Busy || s.Density.Last != nil || !strings.Contains(s.Density.Err, "needs") || !strings.Contains(s.Density.Err, "memory limit") {
		t.Errorf("busy %v, density %v, error %q; want a refusal naming the estimate and the limit", s.Density.Busy, s.Density.Last, s.Density.Err)
	}
}

// The pacer rests after each pacerSlice of work for as long as keeps its duty: at ½, as long
// as it worked; at ¼, three times as long; never within a slice (a fake clock).
func TestPacer(t *testing.T) {
	clock := time.Unix(0, 0)
	var slept []time.Duration
	p := newPacer(0.5, func() time.Time { return clock }, func(d time.Duration) { slept = append(slept, d); clock = clock.Add(d) })
	for _, work := range []time.Duration{2 * time.Millisecond, 3 * time.Millisecond, time.Millisecond, 10 * time.Millisecond} {
		clock = clock.Add(work)
		p.rest()
	}
	// 2 ms: no rest; 5 ms in all: a rest of 5 ms; 1 ms: none; 11 ms: a rest of 11 ms.
	if want := []time.Duration{5 * time.Millisecond, 11 * time.Millisecond}; !slices.Equal(slept, want) {
		t.Errorf("rests %v, want %v", slept, want)
	}
	slept = nil
	p = newPacer(0.25, func() time.Time { return clock }, func(d time.Duration) { slept = append(slept, d); clock = clock.Add(d) })
	clock = clock.Add(4 * time.Millisecond)
	p.rest()
	if want := []time.Duration{12 * time.Millisecond}; !slices.Equal(slept, want) {
		t.Errorf("rests at duty ¼ %v, want %v", slept, want)
	}
	// A stall of 10 s (a descheduled job on a loaded machine) rests 100 ms, not 10 s.
	slept = nil
	clock = clock.Add(10 * time.Second)
	p.rest()
	if want := []time.Duration{pacerMaxRest}; !slices.Equal(slept, want) || pacerMaxRest != 100*time.Millisecond {
		t.Errorf("rest after a 10 s stall %v, want %v", slept, want)
	}
}
