package lab

import (
	"math"
	"runtime"
	"testing"
	"unicode/utf8"

	"sharpflat/lab/train"
)

func TestSeriesBoundedOverAMillionSteps(t *testing.T) {
	s := NewSeries(64)
	for i := 1; i <= 1_000_000; i++ {
		s.Add(i, float64(i))
		if len(s.Points) > 64 {
			t.Fatalf("%d points after %d adds", len(s.Points), i)
		}
	}
	if p, _ := s.Last(); p.Step != 1_000_000 {
		t.Errorf("last point at step %d", p.Step)
	}
	if s.Points[0].Step > 1_000_000/32 {
		t.Errorf("first point at step %d: the start of the run is lost", s.Points[0].Step)
	}
	for i := 1; i < len(s.Points); i++ {
		if s.Points[i].Step <= s.Points[i-1].Step {
			t.Fatal("points out of order")
		}
	}
}

// The whole history's memory stays flat from 10⁴ to 10⁶ steps.
func TestHistoryMemoryFlat(t *testing.T) {
	h := NewHistory()
	m := train.Metrics{Loss: 1, TrainLoss: 1, TestLoss: 1, TestAcc: 0.5, Sharpness: 3, StabilityThreshold: 20,
		ChiGrad: 0.5, ChiFullGrad: 0.5, Overlap: 0.9, EnergyG: 0.8}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	for i := 1; i <= 10_000; i++ {
		m.Step = i
		h.Add(&m)
	}
	before := heap()
	for i := 10_001; i <= 1_000_000; i++ {
		m.Step = i
		h.Add(&m)
	}
	after := heap()
	if after > before+64<<10 {
		t.Errorf("heap grew from %d to %d bytes between 10⁴ and 10⁶ steps", before, after)
	}
	for _, p := range h.all() {
		if len((*p).Points) > HistoryPoints {
			t.Errorf("a series holds %d points", len((*p).Points))
		}
	}
}

func TestStale(t *testing.T) {
	for _, tc := range []struct {
		step, basis, every int
		want               bool
	}{
		{1, 0, 1, false}, {2, 0, 1, true}, // every step: the basis of the step before
		{5, 0, 5, false}, {6, 0, 5, true}, // every 5: up to 5 steps old
		{1, 0, 0, false}, {2, 0, 0, true}, // manual: only the step right after a refresh
		{10, -1, 0, false}, // no basis yet
	} {
		if got := Stale(tc.step, tc.basis, tc.every); got != tc.want {
			t.Errorf("Stale(step %d, basis %d, T %d) = %v, want %v", tc.step, tc.basis, tc.every, got, tc.want)
		}
	}
}

// History.Add fills λ_{k+1} and felt, marks the eigen-quantities of an old basis stale, and
// the flag survives the series' thinning (the replaced last point carries its own).
func TestHistoryBulkTopFeltStale(t *testing.T) {
	h := NewHistory()
	m := train.Metrics{Loss: 1, Sharpness: 10, BulkTop: 3, StabilityThreshold: 20, WDom: 0, WBulk: 1, Refresh: 0, BasisStep: 0}
	for i := 1; i <= 3; i++ {
		m.Step = i
		h.Add(&m)
	}
	for _, s := range []*Series{h.Sharpness, h.BulkTop, h.Felt} {
		if len(s.Points) != 3 || s.Points[0].Stale || !s.Points[1].Stale || !s.Points[2].Stale {
			t.Errorf("points %+v: want the first fresh, the others stale", s.Points)
		}
	}
	if h.Loss.Points[2].Stale || h.Felt.Points[0].V != 3 || h.BulkTop.Points[0].V != 3 {
		t.Errorf("loss %+v, felt %+v, bulk top %+v", h.Loss.Points, h.Felt.Points, h.BulkTop.Points)
	}
	m.Step, m.WDom, m.BulkTop, m.BasisStep = 4, 1, train.OptNum(math.NaN()), 3
	h.Add(&m)
	if n := len(h.Felt.Points); n != 3 || len(h.BulkTop.Points) != 3 {
		t.Errorf("an unknown λ_{k+1} under SGD added a felt point: %+v", h.Felt.Points)
	}
	if p, _ := h.Sharpness.Last(); p.Step != 4 || p.Stale {
		t.Errorf("last λ₁ point %+v", p)
	}

	// Thinning: once full, the series replaces its last point until the stride is reached;
	// the replacement carries its own flag.
	s := NewSeries(4)
	for i := 1; i <= 4; i++ {
		s.AddPoint(Point{Step: i, V: 1})
	}
	s.AddPoint(Point{Step: 5, V: 1, Stale: true}) // thins to 2 points, then appends
	s.AddPoint(Point{Step: 6, V: 2, Stale: true}) // replaces step 5
	if p, _ := s.Last(); p.Step != 6 || !p.Stale {
		t.Errorf("last point %+v, want step 6 stale", p)
	}
	s.AddPoint(Point{Step: 7, V: 3}) // appended, fresh
	if p, _ := s.Last(); p.Step != 7 || p.Stale {
		t.Errorf("last point %+v, want step 7 fresh", p)
	}
	c := h.Copy()
	c.Sharpness.Points[1].Stale = false
	if !h.Sharpness.Points[1].Stale {
		t.Error("Copy shares points")
	}
}

func TestMarks(t *testing.T) {
	h := NewHistory()
	for i := range MaxMarks + 10 {
		h.AddMark(Mark{Step: i, Kind: MarkUpdate, Label: "SGD"})
	}
	if len(h.Marks) != MaxMarks || h.Marks[0].Step != 10 || h.Marks[MaxMarks-1].Step != MaxMarks+9 {
		t.Fatalf("%d marks from step %d: want the newest %d", len(h.Marks), h.Marks[0].Step, MaxMarks)
	}
	c := h.Copy()
	c.Marks[0].Label = "changed"
	if h.Marks[0].Label != "SGD" {
		t.Error("Copy shares the marks")
	}
	h.Truncate(40)
	if p := h.Marks[len(h.Marks)-1]; p.Step != 40 {
		t.Errorf("after Truncate(40) the last mark is at %d", p.Step)
	}
	for _, tc := range []struct {
		wd, wb float64
		want   string
	}{{1, 0, "Dom"}, {1, 1, "SGD"}, {0, 1, "Bulk"}, {1, 0.6, "α 0.30"}, {0.5, 1, "α 0.75"},
		{2, 0.5, "w2,0.5"}, {0.25, 1.75, "w0.3,2"}, {10, 10, "w10,10"}, {1.234, 5.678, "w1,6"}} {
		got := UpdateLabel(tc.wd, tc.wb)
		if got != tc.want {
			t.Errorf("UpdateLabel(%v, %v) = %q, want %q", tc.wd, tc.wb, got, tc.want)
		}
		if n := utf8.RuneCountInString(got); n > 6 {
			t.Errorf("UpdateLabel(%v, %v) = %q: %d runes", tc.wd, tc.wb, got, n)
		}
	}
}

// A rollback drops the marks of the branch left (those at its step too) and names the
// update of the new branch; an update set at the rollback's step renames it, and of two
// updates set at one step only the second trained, so only it is marked.
func TestRollbackMarks(t *testing.T) {
	h := NewHistory()
	h.AddMark(Mark{Step: 5, Kind: MarkUpdate, Label: "Bulk"})
	h.AddMark(Mark{Step: 10, Kind: MarkUpdate, Label: "Dom"})
	h.AddMark(Mark{Step: 10, Kind: MarkUpdate, Label: "α 0.30"})
	h.AddMark(Mark{Step: 14, Kind: MarkDivergence, Label: "✗"})
	if len(h.Marks) != 3 || h.Marks[1].Label != "α 0.30" {
		t.Fatalf("marks %+v, want Bulk, α 0.30, ✗", h.Marks)
	}
	h.Rollback(10, 14, "Dom")
	if len(h.Marks) != 2 || h.Marks[0].Label != "Bulk" || h.Marks[1] != (Mark{Step: 10, Kind: MarkRollback, Label: "↶ 14 Dom", Update: "Dom", From: 14}) {
		t.Fatalf("after the rollback: %+v", h.Marks)
	}
	h.AddMark(Mark{Step: 10, Kind: MarkUpdate, Label: "SGD"})
	if len(h.Marks) != 2 || h.Marks[1].Label != "↶ 14 SGD" || h.Marks[1].Kind != MarkRollback {
		t.Errorf("an update at the rollback's step: %+v, want it named in ↶ 14 SGD", h.Marks)
	}
	h.AddMark(Mark{Step: 11, Kind: MarkUpdate, Label: "Dom"})
	if len(h.Marks) != 3 {
		t.Errorf("an update a step later is a mark of its own: %+v", h.Marks)
	}
}

// A Dom-damped step's line records its weight on v₁, so the history's felt curvature is the
// rule's: with λ₁ = 50 above the edge 20 it feels the edge (hand: max(min(50, 20), 3) = 20),
// unless the top of the Bulk is higher (max(20, 30) = 30). Its mark label is the rule's.
func TestHistoryFeltOfDomDamped(t *testing.T) {
	r := train.DomDamped{C: 1}
	for _, tc := range []struct{ next, want float64 }{{3, 20}, {30, 30}} {
		h := NewHistory()
		m := train.Metrics{Step: 1, Loss: 1, Sharpness: 50, BulkTop: train.OptNum(tc.next), StabilityThreshold: 20, BasisStep: 0}
		m.WDom, m.WBulk = r.Weights(50, 20)
		h.Add(&m)
		if p, _ := h.Felt.Last(); p.V != tc.want {
			t.Errorf("λ_{k+1} %v: felt %v, want %v", tc.next, p.V, tc.want)
		}
		if f := r.Felt(train.Curvatures{Top: 50, Next: tc.next, Edge: 20}); f.V != tc.want {
			t.Errorf("λ_{k+1} %v: the rule's felt %v, want %v", tc.next, f.V, tc.want)
		}
	}
	h := NewHistory()
	h.AddMark(Mark{Step: 3, Kind: MarkUpdate, Label: r.Label()})
	if h.Marks[0].Update != "Damped" {
		t.Errorf("mark %+v", h.Marks[0])
	}
}
