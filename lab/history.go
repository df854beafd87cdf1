package lab

import (
	"math"

	"sharpflat/lab/train"
)

// Point is one value of a series at a step.
type Point struct {
	Step int
	V    float64
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
func (s *Series) Add(step int, v float64) {
	if math.IsNaN(v) {
		return
	}
	s.skip++
	if s.skip < s.stride && len(s.Points) > 0 {
		// Keep the latest value visible: replace the last point until the stride is reached.
		s.Points[len(s.Points)-1] = Point{step, v}
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
	s.Points = append(s.Points, Point{step, v})
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

// History holds the series the lab draws, each bounded.
type History struct {
	Loss, TrainLoss, TestLoss, TestAcc *Series
	Sharpness, Threshold               *Series
	ChiGrad, ChiFullGrad               *Series
	Overlap, EnergyG                   *Series
}

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
		&h.ChiGrad, &h.ChiFullGrad, &h.Overlap, &h.EnergyG}
}

// Add records one step's metrics.
func (h *History) Add(m *train.Metrics) {
	s := m.Step
	h.Loss.Add(s, float64(m.Loss))
	h.TrainLoss.Add(s, float64(m.TrainLoss))
	h.TestLoss.Add(s, float64(m.TestLoss))
	h.TestAcc.Add(s, float64(m.TestAcc))
	h.Sharpness.Add(s, float64(m.Sharpness))
	h.Threshold.Add(s, float64(m.StabilityThreshold))
	h.ChiGrad.Add(s, float64(m.ChiGrad))
	h.ChiFullGrad.Add(s, float64(m.ChiFullGrad))
	h.Overlap.Add(s, float64(m.Overlap))
	h.EnergyG.Add(s, float64(m.EnergyG))
}

// Truncate drops the points after step (after a rollback).
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
}

// Copy returns a deep copy.
func (h *History) Copy() *History {
	c := &History{}
	src, dst := h.all(), c.all()
	for i := range src {
		*dst[i] = (*src[i]).Copy()
	}
	return c
}
