package lesson

import (
	"math"
	"testing"

	"sharpflat/lab/train"
)

// get is metric name's value on m.
func get(t *testing.T, name string, m *train.Metrics) float64 {
	t.Helper()
	for _, mt := range metrics {
		if mt.name == name {
			return mt.get(m)
		}
	}
	t.Fatalf("no metric %q", name)
	return 0
}

// The outliers metric counts by train.Outliers on a refresh's spectrum and λ_{k+1}, and is
// not measured between refreshes; the batch-sharpness metrics read B's fields, NaN when not
// estimated. Values by hand.
func TestSpectrumMetrics(t *testing.T) {
	m := train.Metrics{Refreshed: true, Spectrum: []float64{4, 3, 1, 0.5}, BulkTop: train.OptNum(0.4),
		StabilityThreshold: 20, BatchSharpness: train.OptNum(math.NaN()), UpdateSharpness: train.OptNum(18)}
	// Ratios 4/3, 3/1, 1/0.5, 0.5/0.4: the largest, 3 ≥ 2, is after λ₂: two outliers.
	if got := get(t, "outliers", &m); got != 2 {
		t.Errorf("outliers %g, want 2", got)
	}
	// Without λ_{k+1} the same gap is inside the top four.
	m.BulkTop = train.OptNum(math.NaN())
	if got := get(t, "outliers", &m); got != 2 {
		t.Errorf("outliers without λ_{k+1} %g, want 2", got)
	}
	m.Refreshed = false
	if got := get(t, "outliers", &m); !math.IsNaN(got) {
		t.Errorf("outliers on a step without a refresh %g, want NaN", got)
	}
	if got := get(t, "batch_sharpness", &m); !math.IsNaN(got) {
		t.Errorf("batch_sharpness not estimated: %g, want NaN", got)
	}
	if got := get(t, "update_sharpness/edge", &m); got != 0.9 {
		t.Errorf("update_sharpness/edge %g, want 18/20 = 0.9", got)
	}
}
