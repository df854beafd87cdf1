package lab

import (
	"context"
	"testing"
	"time"

	"sharpflat/lab/train"
)

// benchSteps runs the demo preset (as configured) for b.N steps and reports steps/s.
func benchSteps(b *testing.B, c train.Config, subscribe func(e *Engine)) {
	e, err := New(c, Options{MaxSteps: b.N})
	if err != nil {
		b.Fatal(err)
	}
	if subscribe != nil {
		subscribe(e)
	}
	b.ResetTimer()
	t0 := time.Now()
	if err := e.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "steps/s")
}

// BenchmarkDemoSteps: the demo preset with the per-step refresh (T = 1) and with manual
// refresh only (T = 0: one refresh at the start).
func BenchmarkDemoSteps(b *testing.B) {
	for _, tc := range []struct {
		name string
		t    int
	}{{"T=1", 1}, {"T=0", 0}} {
		b.Run(tc.name, func(b *testing.B) {
			c, _ := train.Preset("demo")
			c.RefreshEvery = tc.t
			benchSteps(b, c, nil)
		})
	}
}

// BenchmarkSlowSubscriber: the demo preset (T = 1) with no subscriber, with one that never
// reads its channel, and with one that reads slowly; steps/s should not depend on them.
func BenchmarkSlowSubscriber(b *testing.B) {
	for _, tc := range []struct {
		name string
		sub  func(e *Engine)
	}{
		{"none", nil},
		{"never-reads", func(e *Engine) { e.Subscribe() }},
		{"slow-reader", func(e *Engine) {
			s := e.Subscribe()
			go func() {
				for range s.C() {
					time.Sleep(200 * time.Millisecond)
				}
			}()
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c, _ := train.Preset("demo")
			benchSteps(b, c, tc.sub)
		})
	}
}

// BenchmarkRefresh: one eigenspace refresh of the demo preset after 100 SGD steps, warm
// (refining the basis of the previous step) against cold (Lanczos from a random start), with
// explicit residuals and with the estimated residuals of a scheduled refresh.
func BenchmarkRefresh(b *testing.B) {
	c, _ := train.Preset("demo")
	c.RefreshEvery, c.EnergyEvery = 1, 0
	tr, err := train.New(c)
	if err != nil {
		b.Fatal(err)
	}
	for range 100 {
		if _, err := tr.Step(); err != nil {
			b.Fatal(err)
		}
	}
	prev := tr.Basis().Vectors
	_, _, hess := tr.Data()
	hb, err := tr.Model().Bind(tr.Theta(), hess)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		warm [][]float64
		est  bool
	}{{"warm", prev, false}, {"cold", nil, false}, {"warm-estimated", prev, true}, {"cold-estimated", nil, true}} {
		b.Run(tc.name, func(b *testing.B) {
			products := 0
			for b.Loop() {
				r, err := train.Curvature(hb, train.CurvatureOptions{K: c.K, Tol: c.Tol, Seed: c.Seed, Warm: tc.warm, EstimateResiduals: tc.est})
				if err != nil {
					b.Fatal(err)
				}
				products = r.Products
			}
			b.ReportMetric(float64(products), "HVPs/refresh")
		})
	}
}

// BenchmarkExtraPair: a step of the demo preset (T = 1, energies off) on a trainer, with the
// refresh computing k pairs and k+1 (λ_{k+1}, as the lab's engine does), after 100 steps of
// warm-up; HVPs/refresh is the mean over the timed steps.
func BenchmarkExtraPair(b *testing.B) {
	for _, extra := range []bool{false, true} {
		name := "k"
		if extra {
			name = "k+1"
		}
		b.Run(name, func(b *testing.B) {
			c, _ := train.Preset("demo")
			c.EnergyEvery = 0
			tr, err := train.New(c)
			if err != nil {
				b.Fatal(err)
			}
			tr.SetExtraPair(extra)
			for range 100 {
				if _, err := tr.Step(); err != nil {
					b.Fatal(err)
				}
			}
			products, n := 0, 0
			for b.Loop() {
				m, err := tr.Step()
				if err != nil {
					b.Fatal(err)
				}
				products += m.RefreshHVPs
				n++
			}
			b.ReportMetric(float64(products)/float64(n), "HVPs/refresh")
		})
	}
}

// BenchmarkRace: the demo preset with the per-step refresh (T = 1), as one run (steps/s)
// and as a race of Dom-SGD, SGD and Bulk-SGD forked at step 0 (rounds/s: each round is a
// step of every arm, the arms in parallel), both through the engine. Issue 20's target: a
// race's rounds/s at least 0.6 × (cores ÷ 3 arms) of the single run's steps/s.
func BenchmarkRace(b *testing.B) {
	for _, tc := range []struct {
		name  string
		specs []ArmSpec
		unit  string
	}{{"single", nil, "steps/s"}, {"race3", DefaultRace, "rounds/s"}} {
		b.Run(tc.name, func(b *testing.B) {
			c, _ := train.Preset("demo")
			c.RefreshEvery = 1
			e, err := New(c, Options{StartPaused: true})
			if err != nil {
				b.Fatal(err)
			}
			sub := e.Subscribe()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go e.Run(ctx)
			if tc.specs != nil {
				e.Race(tc.specs)
			}
			seq := e.Seq()
			for s := range sub.C() {
				if s.Seq >= seq {
					break
				}
			}
			b.ResetTimer()
			t0 := time.Now()
			e.StepN(b.N)
			for s := range sub.C() {
				if s.Step >= b.N && s.Run == Paused {
					break
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), tc.unit)
		})
	}
}
