package lab

import (
	"fmt"
	"math"
	"slices"

	"sharpflat/lab/train"
)

// Point is one value of a series at a step.
type Point struct {
	Step int
	V    float64
	// Stale marks an eigen-quantity (λ₁, λ_{k+1}, felt) read off a basis older than the
	// refresh schedule promises (see Stale).
	Stale bool
}

// Stale reports whether a step's eigen-quantities come from a basis older than the refresh
// schedule promises: with age = step − basisStep (steps taken since the basis was computed,
// 1 for a basis refreshed just before the step), stale when age > T for a refresh every
// T > 0 steps, and when age > 1 for refresh only on request (T = 0: the numbers describe the
// point where the user last asked). No basis (basisStep < 0) is not stale: there is no number.
func Stale(step, basisStep, refreshEvery int) bool {
	if basisStep < 0 {
		return false
	}
	age := step - basisStep
	if refreshEvery == 0 {
		return age > 1
	}
	return age > refreshEvery
}

// Series keeps at most a fixed number of points of one metric over an unbounded run: when it
// is full it drops every other point and from then on keeps one point in twice as many, so
// the whole run stays covered at a resolution that halves as it grows, in constant memory.
type Series struct {
	Points []Point
	limit  int
	stride int // keep one offered point in stride
	skip   int // points offered since the last kept one
}

// NewSeries returns an empty series that holds at most limit (≥ 2) points.
func NewSeries(limit int) *Series {
	if limit < 2 {
		panic("lab: series limit < 2")
	}
	return &Series{Points: make([]Point, 0, limit), limit: limit, stride: 1}
}

// Add offers the value at step; NaN (not measured) is ignored.
func (s *Series) Add(step int, v float64) { s.AddPoint(Point{Step: step, V: v}) }

// AddPoint offers a point, with its flags; a NaN value (not measured) is ignored.
func (s *Series) AddPoint(p Point) {
	if math.IsNaN(p.V) {
		return
	}
	s.skip++
	if s.skip < s.stride && len(s.Points) > 0 {
		// Keep the latest value visible: replace the last point until the stride is reached.
		s.Points[len(s.Points)-1] = p
		return
	}
	s.skip = 0
	if len(s.Points) == s.limit {
		n := 0
		for i := 1; i < len(s.Points); i += 2 {
			s.Points[n] = s.Points[i]
			n++
		}
		s.Points = s.Points[:n]
		s.stride *= 2
	}
	s.Points = append(s.Points, p)
}

// Last returns the newest point (ok false when empty).
func (s *Series) Last() (p Point, ok bool) {
	if len(s.Points) == 0 {
		return Point{}, false
	}
	return s.Points[len(s.Points)-1], true
}

// Copy returns a deep copy.
func (s *Series) Copy() *Series {
	c := *s
	c.Points = append(make([]Point, 0, s.limit), s.Points...)
	return &c
}

// History holds the series the lab draws, each bounded, and the marks on the time axis.
type History struct {
	Loss, TrainLoss, TestLoss, TestAcc *Series
	Sharpness, Threshold               *Series
	// BulkTop is λ_{k+1} of the basis in use; Felt is the felt curvature of the step's
	// weights (train.Rule.Weights), λ₁ and λ_{k+1}: what the update feels, against Threshold. Their
	// points and Sharpness's carry Stale.
	BulkTop, Felt        *Series
	ChiGrad, ChiFullGrad *Series
	Overlap, EnergyG     *Series
	// BatchSharp is batch sharpness λ_B and UpdateSharp the update's batch curvature λ_d,
	// on the steps they were estimated (train.Metrics.BatchSharpness, UpdateSharpness);
	// FeltBatch is λ_d of the estimates drawn from minibatches only: under minibatch SGD the
	// curvature to hold against the edge (Andreyev & Beneventano, arXiv 2412.20553).
	BatchSharp, UpdateSharp, FeltBatch *Series

	// Marks are the events worth a tick on the time axis, oldest first, the newest
	// MaxMarks of them.
	Marks []Mark
}

// MarkKind says what a Mark marks.
type MarkKind int

const (
	MarkUpdate     MarkKind = iota // the update (w_dom, w_bulk) changed from this step on
	MarkRollback                   // training came back to this step from a later one
	MarkDivergence                 // training diverged at this step
)

func (k MarkKind) String() string {
	switch k {
	case MarkUpdate:
		return "update"
	case MarkRollback:
		return "rollback"
	case MarkDivergence:
		return "divergence"
	}
	return fmt.Sprintf("MarkKind(%d)", int(k))
}

// Mark is a tick on the time axis: at Step (steps completed), Kind, and a label of a few
// runes to write by it: "Dom", "SGD", "Bulk", "α 0.30", "w2,0.5", "Damped" for an update
// (train.Rule.Label), "↶ 120 Bulk" for a rollback from step 120 onto a branch trained with
// Bulk-SGD, "✗" for a divergence.
type Mark struct {
	Step  int
	Kind  MarkKind
	Label string
	// Update is the update in force from this mark on (UpdateLabel): an update mark's, and a
	// rollback's new branch's.
	Update string
	// From is the step a rollback came back from.
	From int
}

// MaxMarks is the number of marks a History keeps (the newest).
const MaxMarks = 64

// AddMark adds a mark, dropping the oldest beyond MaxMarks. At the step of the newest mark
// an update takes its place, or joins it: only the last update set at a step trains, and a
// chart writes one label at a step, so the update a rollback's branch trains with is named
// in the rollback's own label ("↶ 600 Bulk").
func (h *History) AddMark(m Mark) {
	if m.Kind == MarkUpdate && m.Update == "" {
		m.Update = m.Label
	}
	if n := len(h.Marks); n > 0 && m.Kind == MarkUpdate && h.Marks[n-1].Step == m.Step {
		switch last := &h.Marks[n-1]; last.Kind {
		case MarkUpdate:
			*last = m
			return
		case MarkRollback:
			last.Update, last.Label = m.Update, rollbackLabel(last.From, m.Update)
			return
		}
	}
	h.Marks = append(h.Marks, m)
	if len(h.Marks) > MaxMarks {
		h.Marks = append(h.Marks[:0], h.Marks[len(h.Marks)-MaxMarks:]...)
	}
}

// Rollback records that training came back to step to from step from, with the update
// named update in force: the points after to go, and so does every mark at or after to
// (those at to were set before the rollback, on the branch left: one at to from before the
// checkpoint is superseded by the update the new branch trains with, which the rollback's
// mark names).
func (h *History) Rollback(to, from int, update string) {
	h.Truncate(to)
	n := len(h.Marks)
	for n > 0 && h.Marks[n-1].Step >= to {
		n--
	}
	h.Marks = h.Marks[:n]
	h.AddMark(Mark{Step: to, Kind: MarkRollback, From: from, Update: update, Label: rollbackLabel(from, update)})
}

func rollbackLabel(from int, update string) string { return fmt.Sprintf("↶ %d %s", from, update) }

// UpdateLabel is a mark's label for the blend (w_dom, w_bulk), at most 6 runes: "Dom",
// "SGD", "Bulk" for Dom-SGD, SGD, Bulk-SGD; "α 0.30" elsewhere on the slider's path;
// "w2,0.5" (the weights) off it, rounded to fit. It is train.Blend's Label; any rule's label
// is its Label.
func UpdateLabel(wDom, wBulk float64) string { return train.Blend{Dom: wDom, Bulk: wBulk}.Label() }

// HistoryPoints is the number of points each series keeps.
const HistoryPoints = 1024

// NewHistory returns empty series.
func NewHistory() *History {
	h := &History{}
	for _, p := range h.all() {
		*p = NewSeries(HistoryPoints)
	}
	return h
}

func (h *History) all() []**Series {
	return []**Series{&h.Loss, &h.TrainLoss, &h.TestLoss, &h.TestAcc, &h.Sharpness, &h.Threshold,
		&h.BulkTop, &h.Felt, &h.ChiGrad, &h.ChiFullGrad, &h.Overlap, &h.EnergyG,
		&h.BatchSharp, &h.UpdateSharp, &h.FeltBatch}
}

// measured reports whether an optional estimate and its standard error were measured: not
// NaN, and not both 0 (a Metrics written as a literal that leaves them out; a real estimate
// of exactly 0 with no spread does not occur).
func measured(v, stderr train.OptNum) bool { return v.Valid() && !(v == 0 && stderr == 0) }

// Add records one step's metrics. λ₁, λ_{k+1} and felt are marked Stale when the basis they
// come from is older than the refresh schedule promises (Stale).
func (h *History) Add(m *train.Metrics) {
	s := m.Step
	h.Loss.Add(s, float64(m.Loss))
	h.TrainLoss.Add(s, float64(m.TrainLoss))
	h.TestLoss.Add(s, float64(m.TestLoss))
	h.TestAcc.Add(s, float64(m.TestAcc))
	stale := Stale(s, m.BasisStep, m.Refresh)
	l1, lNext := float64(m.Sharpness), float64(m.BulkTop)
	h.Sharpness.AddPoint(Point{Step: s, V: l1, Stale: stale})
	h.BulkTop.AddPoint(Point{Step: s, V: lNext, Stale: stale})
	// The line's weights are those the rule put on v₁ and on the Bulk at this step, so their
	// blend feels what the rule felt (train.Rule.Weights).
	felt := train.Blend{Dom: m.WDom, Bulk: m.WBulk}.Felt(train.Curvatures{Top: l1, Next: lNext, Edge: float64(m.StabilityThreshold)})
	h.Felt.AddPoint(Point{Step: s, V: felt.V, Stale: stale})
	h.Threshold.Add(s, float64(m.StabilityThreshold))
	h.ChiGrad.Add(s, float64(m.ChiGrad))
	h.ChiFullGrad.Add(s, float64(m.ChiFullGrad))
	h.Overlap.Add(s, float64(m.Overlap))
	h.EnergyG.Add(s, float64(m.EnergyG))
	if measured(m.BatchSharpness, m.BatchSharpnessStderr) {
		h.BatchSharp.Add(s, float64(m.BatchSharpness))
	}
	if measured(m.UpdateSharpness, m.UpdateSharpnessStderr) {
		h.UpdateSharp.Add(s, float64(m.UpdateSharpness))
		if m.BatchSharpnessMinibatch {
			h.FeltBatch.Add(s, float64(m.UpdateSharpness))
		}
	}
}

// Truncate drops the points and marks after step (after a rollback).
func (h *History) Truncate(step int) {
	for _, p := range h.all() {
		s := *p
		n := len(s.Points)
		for n > 0 && s.Points[n-1].Step > step {
			n--
		}
		s.Points = s.Points[:n]
		s.skip = 0
	}
	n := len(h.Marks)
	for n > 0 && h.Marks[n-1].Step > step {
		n--
	}
	h.Marks = h.Marks[:n]
}

// Copy returns a deep copy.
func (h *History) Copy() *History {
	c := &History{Marks: slices.Clone(h.Marks)}
	src, dst := h.all(), c.all()
	for i := range src {
		*dst[i] = (*src[i]).Copy()
	}
	return c
}
