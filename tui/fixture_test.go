package tui

import (
	"fmt"
	"io"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"sharpflat/lab"
	"sharpflat/lab/lesson"
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

// fixtureStart is the demo preset's settings and an empty history.
func fixtureStart() (train.Config, *lab.History) {
	cfg, err := train.Preset("demo")
	if err != nil {
		panic(err)
	}
	return cfg, lab.NewHistory()
}

// noise is pseudo-noise from sines: the fixtures' numbers depend on nothing else.
func noise(x, f float64) float64 { return math.Sin(x*f) * math.Sin(x*f*0.37+1) }

// syntheticSnapshot looks like the demo preset after steps steps of SGD: a decaying loss
// with minibatch noise, sharpness rising toward 2/η, χ of g around ½ and of ∇L a little
// higher, a decaying spectrum mostly from G. Pseudo-noise comes from sines, not an RNG.
func syntheticSnapshot(steps int) lab.Snapshot {
	cfg, h := fixtureStart()
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
		m.BulkTop = train.OptNum(0.4 + 1.3*(1-math.Exp(-x/250)) + 0.05*noise(x, 0.07))
		m.BasisStep, m.WDom, m.WBulk, m.Refresh = s-1, 1, 1, 1
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
				Next:       1.71,
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
			RollbackWhy: "auto",
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

// bulkSnapshot is a synthetic run of the Bulk stability story: SGD at η 0.1, Dom-SGD from
// step 250 (the loss stalls), Bulk-SGD from 400 (it falls again), η raised to 0.5 at 500
// (2/η = 4), where λ₁ climbs far above 2/η while λ₁₁, the curvature Bulk-SGD feels, settles
// just under it; a rollback from 540 to 520. With stale, the refresh is manual from step 620
// (the basis of 620 stays in use, and its values are drawn as stale).
func bulkSnapshot(stale bool) lab.Snapshot {
	const steps = 700
	cfg, h := fixtureStart()
	var last train.Metrics
	loss := 2.3
	basis := 0
	for s := 1; s <= steps; s++ {
		x := float64(s)
		m := train.Metrics{Step: s, TrainLoss: train.NA, TrainAcc: train.NA, TestLoss: train.NA, TestAcc: train.NA,
			ChiFullGrad: train.NA, Overlap: train.NA, RefreshMS: train.NA, EnergyH: train.NA, EnergyHStderr: train.NA,
			EnergyG: train.NA, EnergyGStderr: train.NA, EnergyF: train.NA, EnergyFStderr: train.NA, BulkTop: train.OptNum(math.NaN())}
		m.WDom, m.WBulk, m.LR, m.Refresh = 1, 1, 0.1, 1
		switch {
		case s > 400:
			m.WDom, m.WBulk = 0, 1
		case s > 250:
			m.WDom, m.WBulk = 1, 0
		}
		if s > 500 {
			m.LR = 0.5
		}
		if stale && s > 620 {
			m.Refresh = 0
		} else {
			basis = s - 1
		}
		m.BasisStep = basis
		if m.WBulk > 0 {
			loss *= 1 - 0.006*m.LR/0.1*math.Min(1, 0.1/m.LR*2)
		}
		loss = math.Max(loss, 0.05)
		m.Loss = train.Num(loss * (1 + 0.3*noise(x, 1.7)))
		if (s-1)%10 == 0 {
			m.TrainLoss = train.Num(loss)
			m.TestLoss = train.Num(loss*1.1 + 0.02)
			m.TestAcc = train.Num(0.95 - 0.85*loss/2.3)
			m.ChiFullGrad = train.Num(0.7 + 0.05*noise(x, 0.3))
		}
		l1, next := 0.7+0.4*(1-math.Exp(-x/200)), 0.35+0.1*(1-math.Exp(-x/200))
		if s > 500 {
			l1 += 40 * (1 - math.Exp(-(x-500)/60))
			next += 3.4 * (1 - math.Exp(-(x-500)/40))
		}
		if m.Refresh == 0 { // the values of the basis in use
			b := float64(basis)
			l1 = 0.7 + 0.4*(1-math.Exp(-b/200)) + 40*(1-math.Exp(-(b-500)/60))
			next = 0.35 + 0.1*(1-math.Exp(-b/200)) + 3.4*(1-math.Exp(-(b-500)/40))
		}
		m.Sharpness = train.Num(l1 * (1 + 0.02*noise(x, 0.05)))
		m.BulkTop = train.OptNum(next * (1 + 0.02*noise(x, 0.07)))
		m.StabilityThreshold = train.Num(2 / m.LR)
		m.ChiGrad = train.Num(0.55 + 0.15*noise(x, 2.3))
		h.Add(&m)
		last = m
		switch s {
		case 250:
			h.AddMark(lab.Mark{Step: s, Kind: lab.MarkUpdate, Label: "Dom"})
		case 400:
			h.AddMark(lab.Mark{Step: s, Kind: lab.MarkUpdate, Label: "Bulk"})
		case 540: // diverged, and rolled back to 520: the history from 521 on is replaced
			h.Truncate(520)
			h.AddMark(lab.Mark{Step: 520, Kind: lab.MarkRollback, Label: "↶ 540"})
		}
	}
	cfg.WDom, cfg.WBulk, cfg.LR = 0, 1, 0.5
	if stale {
		cfg.RefreshEvery = 0
	}
	spec := []float64{41.1, 17.3, 11.9, 9.6, 8.7, 7.9, 6.4, 5.5, 4.6, 4.1}
	snap := syntheticSnapshot(steps)
	snap.Config, snap.Threshold, snap.History, snap.Last = cfg, 4, h, last
	snap.Basis.Values, snap.Basis.Step, snap.Basis.Next = spec, basis, float64(last.BulkTop)
	snap.Basis.GGN, snap.Basis.Functional = make([]float64, len(spec)), make([]float64, len(spec))
	for i, v := range spec {
		snap.Basis.GGN[i], snap.Basis.Functional[i] = 0.96*v, 0.04*v
	}
	snap.RollbackWhy = "manual"
	snap.Events = append(snap.Events[:2],
		train.Event{Step: 250, Kind: train.EventCommand, Text: "update Dom-SGD (w_dom 1.00, w_bulk 0.00)"},
		train.Event{Step: 400, Kind: train.EventCommand, Text: "update Bulk-SGD (w_dom 0.00, w_bulk 1.00)"},
		train.Event{Step: 500, Kind: train.EventCommand, Text: "η = 0.5 (2/η = 4)"},
		train.Event{Step: 540, Kind: train.EventRollback, Text: "rolled back from step 540 to your checkpoint at step 520"},
	)
	return snap
}

// lessonSnapshot is the synthetic run in lesson mode: the third step of the built-in "Edge
// of stability", half way, with a claim not yet judged and one already broken.
func lessonSnapshot() lab.Snapshot {
	s := syntheticSnapshot(600)
	var l *lesson.Lesson
	for _, b := range lesson.Builtin() {
		if b.Name == "edge-of-stability" {
			l = b
		}
	}
	st := l.Steps[2]
	s.Lesson = &lab.LessonView{
		Name: l.Name, Title: l.Title, Index: 2, Count: len(l.Steps), StepTitle: st.Title, Caption: st.Caption,
		Until: lesson.DescribeUntil(st.Until), Trains: true, Trained: 300, Progress: 0.5,
		Claims: []lab.Claim{
			{Text: lesson.Describe(st.Expect[0]), Verdict: lesson.Open, Value: "sharpness/edge ranged 0.97…1.1"},
			{Text: lesson.Describe(st.Expect[1]), Verdict: lesson.Fails, Value: "train_loss 0.026 → 0.025 (-3.8%)"},
		},
	}
	return s
}

// moonsSnapshot is the synthetic run's charts with the picture of a real network trained
// 500 steps on the moons (deterministic: fixed seed, no clock).
func moonsSnapshot(t testing.TB) lab.Snapshot {
	s := syntheticSnapshot(600)
	s.Config.Preset, s.Config.Data = "moons", "moons"
	s.Picture = lab.NewPainter().Paint(trainedMoons(t))
	return s
}

// trainedMoons is a network trained 500 steps on the moons, without eigenspace refreshes.
func trainedMoons(t testing.TB) *train.Trainer { return presetTrainer(t, "moons", 500) }

// presetTrainer is the preset's network trained steps steps (deterministic: the preset's
// seed), without eigenspace refreshes or energies.
func presetTrainer(t testing.TB, preset string, steps int) *train.Trainer {
	c, err := train.Preset(preset)
	if err != nil {
		t.Fatal(err)
	}
	c.RefreshEvery, c.EnergyEvery = 0, 0
	tr, err := train.New(c)
	if err != nil {
		t.Fatal(err)
	}
	for range steps {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

// raceArmFixture says how one arm of the synthetic race goes after the fork.
type raceArmFixture struct {
	spec        lab.ArmSpec
	name        string
	wDom, wBulk float64
	lrScale     float64
	lossRate    float64 // how fast its train loss keeps falling after the fork (0: it stalls)
	sharpTo     float64 // λ₁ it climbs to after the fork
	divergeAt   int     // the step it diverged at (0: it did not)
}

// raceSnapshot is a race of arms forked at step 300 of the synthetic SGD run and trained to
// step 600, with focus on the arm of index focus: Dom-SGD stalls (and was rolled back once,
// from 430 to 400), SGD goes on, Bulk-SGD learns as fast as SGD while its λ₁ climbs past 2/η
// (harmless: it feels λ₁₁), and moved to α 0.9 at 540. With diverged, a fourth arm, SGD at 4η, diverged at step 350 and
// stopped there alone. Every number is fixed: pseudo-noise from sines, as syntheticSnapshot.
func raceSnapshot(focus int, diverged bool) lab.Snapshot {
	const at, steps = 300, 600
	arms := []raceArmFixture{
		{spec: lab.ArmSpec{Rule: "dom"}, name: "Dom", wDom: 1, wBulk: 0, lrScale: 1, lossRate: 0.05, sharpTo: 8.6},
		{spec: lab.ArmSpec{Rule: "sgd"}, name: "SGD", wDom: 1, wBulk: 1, lrScale: 1, lossRate: 1, sharpTo: 15.8},
		{spec: lab.ArmSpec{Rule: "bulk"}, name: "Bulk", wDom: 0, wBulk: 1, lrScale: 1, lossRate: 1.1, sharpTo: 31.5},
	}
	if diverged {
		arms = append(arms, raceArmFixture{spec: lab.ArmSpec{Rule: "sgd", LRScale: 4}, name: "SGD η×4",
			wDom: 1, wBulk: 1, lrScale: 4, lossRate: 2, sharpTo: 14, divergeAt: 350})
	}
	base := syntheticSnapshot(steps)
	view := &lab.RaceView{Focus: focus, At: at}
	view.Base, _ = fixtureStart() // the lab's SGD at the fork
	view.Base.LR = 0.08           // and an η of its own, which no arm has
	for ai, f := range arms {
		cfg, h := fixtureStart()
		cfg.WDom, cfg.WBulk, cfg.LR = f.wDom, f.wBulk, cfg.LR*f.lrScale
		end := steps
		if f.divergeAt > 0 {
			end = f.divergeAt
		}
		var last train.Metrics
		loss300 := 2.2*math.Exp(-float64(at)/120) + 0.18
		for s := 1; s <= end; s++ {
			x := float64(s)
			m := train.Metrics{Step: s, TrainLoss: train.NA, TrainAcc: train.NA, TestLoss: train.NA, TestAcc: train.NA,
				ChiFullGrad: train.NA, Overlap: train.NA, RefreshMS: train.NA, EnergyH: train.NA, EnergyHStderr: train.NA,
				EnergyG: train.NA, EnergyGStderr: train.NA, EnergyF: train.NA, EnergyFStderr: train.NA}
			loss := 2.2*math.Exp(-x/120) + 0.18
			l1 := 0.7 + 12*(1-math.Exp(-x/250))
			next := 0.4 + 1.3*(1-math.Exp(-x/250))
			if s > at {
				next *= 1 + 0.1*float64(ai)*(1-math.Exp(-(x-at)/90))
			}
			m.WDom, m.WBulk, m.LR, m.Refresh = 1, 1, cfg.LR/f.lrScale, 1
			if s > at { // after the fork: the arm's own way
				d := x - at
				loss = loss300 * (1 - 0.55*f.lossRate*(1-math.Exp(-d/150)))
				l1 += (f.sharpTo - l1) * (1 - math.Exp(-d/90))
				m.WDom, m.WBulk, m.LR = f.wDom, f.wBulk, cfg.LR
				if f.divergeAt > 0 && s > f.divergeAt-15 {
					loss *= math.Exp(float64(s-(f.divergeAt-15)) / 4)
				}
			}
			m.Loss = train.Num(loss * (1 + 0.3*noise(x, 1.7+0.2*float64(ai))))
			if (s-1)%10 == 0 {
				m.TrainLoss = train.Num(loss)
				m.TestLoss = train.Num(loss*1.08 + 0.03)
				m.TestAcc = train.Num(math.Max(0, 0.97-0.4*loss))
				m.ChiFullGrad = train.Num(0.65 + 0.03*noise(x, 0.3))
			}
			m.Sharpness = train.Num(l1 * (1 + 0.02*noise(x, 0.05)))
			m.BulkTop = train.OptNum(next * (1 + 0.02*noise(x, 0.07)))
			m.BasisStep = s - 1
			m.StabilityThreshold = train.Num(2 / m.LR)
			chi := 0.5
			if s > at {
				chi = []float64{0.8, 0.5, 0.35, 0.6}[ai]
			}
			m.ChiGrad = train.Num(chi + 0.15*noise(x, 2.3+0.1*float64(ai)))
			h.Add(&m)
			last = m
			switch {
			case s == at: // the engine marks each arm's update at the fork
				h.AddMark(lab.Mark{Step: s, Kind: lab.MarkUpdate, Label: lab.UpdateLabel(f.wDom, f.wBulk)})
			case s == 540 && f.name == "Bulk": // the focused arm's rule changed in the race
				h.AddMark(lab.Mark{Step: s, Kind: lab.MarkUpdate, Label: "α 0.90"})
			case s == 430 && f.name == "Dom": // rolled back to 400
				h.Truncate(400)
				h.AddMark(lab.Mark{Step: 400, Kind: lab.MarkRollback, Label: "↶ 430"})
			case s == f.divergeAt:
				h.AddMark(lab.Mark{Step: s, Kind: lab.MarkDivergence, Label: "✗"})
			}
		}
		spec := slices.Clone(base.Basis.Values)
		scale := float64(last.Sharpness) / spec[0]
		for i := range spec {
			spec[i] *= scale
		}
		st := base.State
		st.Config, st.Step, st.Last, st.Threshold = cfg, end, last, 2/cfg.LR
		st.Basis.Values, st.Basis.Next, st.Basis.Step = spec, float64(last.BulkTop), end-1
		run := lab.Running
		if f.divergeAt > 0 {
			run = lab.Diverged
			st.Diverged = &train.Divergence{Step: end, Loss: last.Loss, Sharpness: last.Sharpness, Threshold: train.Num(st.Threshold),
				ThresholdName: "2/η", Reason: "loss above 20× the first training loss"}
		}
		view.Arms = append(view.Arms, lab.ArmView{Spec: f.spec, Name: f.name, State: st, Run: run, History: h})
	}
	snap := base
	snap.State, snap.History = view.Arms[focus].State, view.Arms[focus].History
	snap.Run = view.Arms[focus].Run
	snap.Race = view
	snap.Events = append(snap.Events[:3:3], train.Event{Step: at, Kind: train.EventCommand, Text: "race of Dom, SGD, Bulk from step 300"})
	return snap
}
