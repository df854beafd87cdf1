package lab

import (
	"runtime"
	"sharpflat/lab/train"
	"testing"
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
