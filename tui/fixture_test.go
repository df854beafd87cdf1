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
	cfg, err := lab.Preset("demo")
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
	cfg, err := lab.Preset("demo")
	if err != nil {
		panic(err)
	}
	noise := func(x, f float64) float64 { return math.Sin(x*f) * math.Sin(x*f*0.37+1) }
	h := lab.NewHistory()
	var last lab.Metrics
	for s := 1; s <= steps; s++ {
		x := float64(s)
		m := lab.Metrics{Step: s, TrainLoss: lab.NA, TrainAcc: lab.NA, TestLoss: lab.NA, TestAcc: lab.NA,
			ChiFullGrad: lab.NA, Overlap: lab.NA, RefreshMS: lab.NA, EnergyH: lab.NA, EnergyHStderr: lab.NA,
			EnergyG: lab.NA, EnergyGStderr: lab.NA, EnergyF: lab.NA, EnergyFStderr: lab.NA}
		base := 2.2*math.Exp(-x/120) + 0.18
		m.Loss = lab.Num(base * (1 + 0.35*noise(x, 1.7)))
		if (s-1)%10 == 0 {
			m.TrainLoss = lab.Num(base)
			m.TestLoss = lab.Num(base*1.08 + 0.03)
			m.TestAcc = lab.Num(0.95 - 0.85*math.Exp(-x/100))
			m.ChiFullGrad = lab.Num(0.62 + 0.1*math.Tanh(x/300) + 0.03*noise(x, 0.3))
		}
		m.Sharpness = lab.Num(0.7 + 12*(1-math.Exp(-x/250)) + 0.3*noise(x, 0.05))
		m.StabilityThreshold = 20
		m.ChiGrad = lab.Num(0.5 + 0.18*noise(x, 2.3))
		m.BulkShare = 1 - m.ChiGrad*m.ChiGrad
		m.Overlap = lab.Num(0.995 - 0.01*math.Abs(noise(x, 0.9)))
		if s%20 == 0 {
			m.EnergyG = lab.Num(0.8 + 0.05*noise(x, 0.1))
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
	ev := func(step int, kind, text string) lab.Event {
		return lab.Event{Step: step, Time: t0.Add(time.Duration(step) * 10 * time.Millisecond), Kind: kind, Text: text}
	}
	return lab.Snapshot{
		Preset: "demo", Data: "gaussian (1000 train, 500 test)", Arch: "20-16-16-10 tanh", Loss: "ce",
		P: 778, Config: cfg, State: lab.Running, Step: steps, Rate: 123.4, Last: last, History: h,
		Events: []lab.Event{
			ev(0, "refresh", "eigenspace refreshed on request at step 0: λ₁ 0.6203, 130 HVPs, 207 ms"),
			ev(100, "checkpoint", "checkpoint at step 100"),
			ev(212, "command", "α = 0.45 (w_dom 1.00, w_bulk 0.90)"),
			ev(230, "command", "α = 0.50 (w_dom 1.00, w_bulk 1.00)"),
			ev(388, "command", "η = 0.125 (2/η = 16)"),
			ev(390, "command", "η = 0.1 (2/η = 20)"),
			ev(steps-1, "refresh", fmt.Sprintf("eigenspace refreshed on request at step %d: λ₁ 12.71, 61 HVPs, 40 ms", steps-1)),
		},
		Spectrum:    spec,
		Residuals:   []float64{3e-7, 2e-7, 4e-7, 1e-7, 5e-7, 3e-7, 2e-7, 6e-7, 4e-7, 2e-7},
		BasisStep:   steps - 1,
		BasisHVPs:   61,
		BasisMS:     40,
		Converged:   true,
		GGN:         ggn,
		Func:        fun,
		SplitStep:   steps - 20,
		Energy:      [3]lab.Estimate{{Mean: 0.74, Stderr: 0.02}, {Mean: 0.83, Stderr: 0.015}, {Mean: 0.12, Stderr: 0.03}},
		EnergyStep:  steps - 20,
		Checkpoints: []int{0, 100, 200, 300, 400},
		RollbackTo:  400,
		Threshold:   20,
	}
}

// divergedSnapshot is the synthetic run just after a divergence.
func divergedSnapshot(steps int) lab.Snapshot {
	s := syntheticSnapshot(steps)
	s.State = lab.Diverged
	s.Rate = 0
	s.Config.LR = 0.3
	s.Threshold = 2 / 0.3
	s.Events = append(s.Events, lab.Event{Step: steps, Kind: "divergence",
		Text: fmt.Sprintf("diverged at step %d: loss 71.3, λ₁ 14.2, 2/η 6.667 — press u to roll back", steps)})
	return s
}
