package experiment

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestLogTicksCoverTheRange(t *testing.T) {
	for _, tc := range []struct {
		lo, hi    float64
		minLabels int
	}{{0.004, 2.3, 3}, {0.05, 0.3, 3}, {1e-6, 10, 5}, {0.9, 1.2, 2}} {
		ticks := logTicks{}.Ticks(tc.lo, tc.hi)
		labels := 0
		for _, tk := range ticks {
			if tk.Value < tc.lo*(1-1e-9) || tk.Value > tc.hi*(1+1e-9) {
				t.Errorf("[%g, %g]: tick %g out of range", tc.lo, tc.hi, tk.Value)
			}
			if tk.Label != "" {
				labels++
			}
		}
		if labels < tc.minLabels {
			t.Errorf("[%g, %g]: %d labelled ticks %v, want ≥ %d", tc.lo, tc.hi, labels, ticks, tc.minLabels)
		}
	}
}

func TestDivergingColorEnds(t *testing.T) {
	if r, g, b, _ := divergingColor(0).RGBA(); r != 0xffff || g != 0xffff || b != 0xffff {
		t.Errorf("0 is not white")
	}
	if r, _, b, _ := divergingColor(-5).RGBA(); b <= r {
		t.Errorf("negative end is not blue")
	}
	if r, _, b, _ := divergingColor(5).RGBA(); r <= b {
		t.Errorf("positive end is not red")
	}
}

func TestMovingMeanSkipsNaN(t *testing.T) {
	got := movingMean([]float64{1, math.NaN(), 3, 5}, 3)
	want := []float64{1, math.NaN(), 4, 4}
	for i := range want {
		if math.IsNaN(want[i]) != math.IsNaN(got[i]) || (!math.IsNaN(want[i]) && got[i] != want[i]) {
			t.Errorf("movingMean[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

// savePanels lays out line, log-scale and grid panels into one PNG of the requested size;
// non-positive values on a log axis and NaNs are dropped, not a panic.
func TestSavePanelsWritesPNG(t *testing.T) {
	a := newPlot("loss", "step", "loss")
	setLogY(a)
	addLine(a, []float64{0, 1, 2, 3}, []float64{1, 0.5, -1, math.NaN()}, lineStyle{}, "arm")
	addHLine(a, 0.7, lineStyle{Dashed: true}, "ref")
	b := newGridPlot("grid", "η", "", []string{"1", "2"}, []string{"a", "b"},
		[][]gridCell{{{Value: 0.5, Label: "x"}, {Value: math.NaN()}}, {{Value: 2, Mark: true}, {Fill: plotColors[7], Label: "✗"}}},
		func(v float64) plotColorT { return divergingColor(math.Log2(v)) })
	path := filepath.Join(t.TempDir(), "f.png")
	if err := savePanels(path, 2, 200, 150, a, b); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// 2 × 200 by 150 points at 96 dpi.
	if b := img.Bounds(); b.Dx() != 533 || b.Dy() != 200 {
		t.Errorf("image %v, want 533×200 pixels", b)
	}
}
