package tui

import (
	"fmt"
	"io"
	"math"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"sharpflat/lab"
	"sharpflat/lab/train"
	"sharpflat/linalg"
)

// Fixtures: a synthetic snapshot whose every number is fixed (so golden files depend on the
// drawing code alone, not on the engine's numerics or timing), renderers with a fixed colour
// profile, and idle engines for models that only draw.

// asciiRenderer renders without colour or attributes: what NO_COLOR and golden files see.
func asciiRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	r.SetHasDarkBackground(true)
	return r
}

// colorRenderer renders in true colour: the cost of a real terminal's frames.
func colorRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	r.SetHasDarkBackground(true)
	return r
}

// idleEngine returns an engine that is never run: a model on it draws only the snapshots a
// test gives it, and its keys queue commands nobody executes.
func idleEngine(tb testing.TB) *lab.Engine {
	tb.Helper()
	cfg, err := train.Preset("demo")
	if err != nil {
		tb.Fatal(err)
	}
	e, err := lab.New(cfg, lab.Options{StartPaused: true})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// syntheticSnapshot looks like the demo preset after steps steps of SGD: a decaying loss
// with minibatch noise, sharpness rising toward 2/η, χ of g around ½ and of ∇L a little
// higher, a decaying spectrum mostly from G. Pseudo-noise comes from sines, not an RNG.
func syntheticSnapshot(steps int) lab.Snapshot {
	cfg, err := train.Preset("demo")
	if err != nil {
		panic(err)
	}
	noise := func(x, f float64) float64 { return math.Sin(x*f) * math.Sin(x*f*0.37+1) }
	h := lab.NewHistory()
	var last train.Metrics
	for s := 1; s <= steps; s++ {
		x := float64(s)
		m := train.Metrics{Step: s, TrainLoss: train.NA, TrainAcc: train.NA, TestLoss: train.NA, TestAcc: train.NA,
			ChiFullGrad: train.NA, Overlap: train.NA, RefreshMS: train.NA, EnergyH: train.NA, EnergyHStderr: train.NA,
			EnergyG: train.NA, EnergyGStderr: train.NA, EnergyF: train.NA, EnergyFStderr: train.NA}
		base := 2.2*math.Exp(-x/120) + 0.18
		m.Loss = train.Num(base * (1 + 0.35*noise(x, 1.7)))
		if (s-1)%10 == 0 {
			m.TrainLoss = train.Num(base)
			m.TestLoss = train.Num(base*1.08 + 0.03)
			m.TestAcc = train.Num(0.95 - 0.85*math.Exp(-x/100))
			m.ChiFullGrad = train.Num(0.62 + 0.1*math.Tanh(x/300) + 0.03*noise(x, 0.3))
		}
		m.Sharpness = train.Num(0.7 + 12*(1-math.Exp(-x/250)) + 0.3*noise(x, 0.05))
		m.StabilityThreshold = 20
		m.ChiGrad = train.Num(0.5 + 0.18*noise(x, 2.3))
		m.BulkShare = 1 - m.ChiGrad*m.ChiGrad
		m.Overlap = train.Num(0.995 - 0.01*math.Abs(noise(x, 0.9)))
		if s%20 == 0 {
			m.EnergyG = train.Num(0.8 + 0.05*noise(x, 0.1))
		}
		h.Add(&m)
		last = m
	}
	spec := []float64{12.71, 9.84, 7.6, 6.02, 4.87, 3.9, 3.31, 2.75, 2.2, 1.93}
	ggn := []float64{12.5, 9.9, 7.1, 5.8, 4.9, 3.4, 3.35, 2.1, 2.3, 1.6}
	fun := make([]float64, len(ggn))
	for i := range fun {
		fun[i] = spec[i] - ggn[i]
	}
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := func(step int, kind train.EventKind, text string) train.Event {
		return train.Event{Step: step, Time: t0.Add(time.Duration(step) * 10 * time.Millisecond), Kind: kind, Text: text}
	}
	return lab.Snapshot{
		State: train.State{
			Data: "gaussian (1000 train, 500 test)", Arch: "20-16-16-10 tanh",
			P: 778, Config: cfg, Step: steps, Rate: 123.4, Last: last,
			Basis: train.Eigenspace{
				Values:     spec,
				Residuals:  []float64{3e-7, 2e-7, 4e-7, 1e-7, 5e-7, 3e-7, 2e-7, 6e-7, 4e-7, 2e-7},
				Step:       steps - 1,
				Products:   61,
				MS:         40,
				Converged:  true,
				GGN:        ggn,
				Functional: fun,
				SplitStep:  steps - 20,
				Energy:     [3]linalg.Estimate{{Mean: 0.74, StdErr: 0.02}, {Mean: 0.83, StdErr: 0.015}, {Mean: 0.12, StdErr: 0.03}},
				EnergyStep: steps - 20,
			},
			Checkpoints: []int{0, 100, 200, 300, 400},
			RollbackTo:  400,
			Threshold:   20,
		},
		Run: lab.Running, History: h,
		Events: []train.Event{
			ev(0, train.EventRefresh, "eigenspace refreshed on request at step 0: λ₁ 0.6203, 130 HVPs, 207 ms"),
			ev(100, train.EventCheckpoint, "checkpoint at step 100"),
			ev(212, train.EventCommand, "α = 0.45 (w_dom 1.00, w_bulk 0.90)"),
			ev(230, train.EventCommand, "α = 0.50 (w_dom 1.00, w_bulk 1.00)"),
			ev(388, train.EventCommand, "η = 0.125 (2/η = 16)"),
			ev(390, train.EventCommand, "η = 0.1 (2/η = 20)"),
			ev(steps-1, train.EventRefresh, fmt.Sprintf("eigenspace refreshed on request at step %d: λ₁ 12.71, 61 HVPs, 40 ms", steps-1)),
		},
	}
}

// divergedSnapshot is the synthetic run just after a divergence.
func divergedSnapshot(steps int) lab.Snapshot {
	s := syntheticSnapshot(steps)
	s.Run = lab.Diverged
	s.Rate = 0
	s.Config.LR = 0.3
	s.Threshold = 2 / 0.3
	d := &train.Divergence{Step: steps, Loss: 71.3, Sharpness: 14.2, Threshold: train.Num(2 / 0.3), ThresholdName: "2/η", Reason: "loss above 20× the first training loss 2.38"}
	s.Diverged = d
	s.Events = append(s.Events, train.Event{Step: steps, Kind: train.EventDivergence, Text: d.Summary() + " (" + d.Reason + ")", Divergence: d})
	return s
}
