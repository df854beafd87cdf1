package experiment

import (
	"bufio"
	"context"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sharpflat/lab/train"
)

// gaugeMetrics is a metrics row with the gauges set (NaN: not measured).
func gaugeMetrics(step int, edge, lambda, bulkTop, batch, update, trainLoss float64, wDom, wBulk float64) train.Metrics {
	return train.Metrics{Step: step, StabilityThreshold: train.Num(edge), Sharpness: train.Num(lambda), BulkTop: train.OptNum(bulkTop),
		BatchSharpness: train.OptNum(batch), UpdateSharpness: train.OptNum(update), TrainLoss: train.Num(trainLoss), WDom: wDom, WBulk: wBulk}
}

// gaugesOf against a hand calculation: the largest ratio of each gauge to the edge, the first
// step after the switch at or above it, the spike, and the felt curvature with and without
// λ_{k+1}.
func TestGaugesOf(t *testing.T) {
	nan := math.NaN()
	// Warm-up 100, edge 2 (η = 1), loss 0.2 at the switch. Bulk-SGD (0, 1).
	ms := []train.Metrics{
		gaugeMetrics(101, 2, 3, nan, 1.0, 0.5, nan, 0, 1),  // λ₁/edge 1.5 at step 1
		gaugeMetrics(102, 2, 4, 1.5, nan, nan, 0.25, 0, 1), // felt = λ_{k+1} = 1.5: 0.75; loss 0.25 ≤ 0.3
		gaugeMetrics(103, 2, 5, 2.2, 2.4, 2.1, 0.31, 0, 1), // felt 1.1, batch 1.2, update 1.05 (first at 3); loss > 0.3 at θ of step 2
	}
	a := gaugesOf(ms, 100, 0.2, 0)
	want := [nGauges]float64{2.5, 1.1, 1.2, 1.05}
	wantFirst := [nGauges]int{1, 3, 3, 3}
	for g := range want {
		if math.Abs(a.Max[g]-want[g]) > 1e-12 || a.First[g] != wantFirst[g] {
			t.Errorf("%s: max %v first %d, want %v and %d", gaugeNames[g], a.Max[g], a.First[g], want[g], wantFirst[g])
		}
	}
	if a.SpikeAt != 2 || a.Samples != 2 {
		t.Errorf("spike at %d, samples %d; want 2 and 2", a.SpikeAt, a.Samples)
	}
	// SGD (1, 1) without λ_{k+1}: felt = λ₁, so felt/edge = λ₁/edge.
	sgd := gaugesOf([]train.Metrics{gaugeMetrics(101, 2, 3, nan, nan, nan, nan, 1, 1)}, 100, 0.2, 0)
	if sgd.Max[gaugeFelt] != 1.5 {
		t.Errorf("SGD felt/edge %v, want 1.5 (λ₁ 3 / edge 2)", sgd.Max[gaugeFelt])
	}
	// Bulk-SGD without λ_{k+1}: unknown.
	bulk := gaugesOf([]train.Metrics{gaugeMetrics(101, 2, 3, nan, nan, nan, nan, 0, 1)}, 100, 0.2, 0)
	if !math.IsNaN(bulk.Max[gaugeFelt]) {
		t.Errorf("Bulk-SGD felt/edge without λ_{k+1}: %v, want NaN", bulk.Max[gaugeFelt])
	}
	// A divergence at absolute step 105 before any loss spike.
	if d := gaugesOf(ms[:1], 100, 0.2, 105); d.SpikeAt != 5 {
		t.Errorf("diverged at 105: spike at %d, want 5", d.SpikeAt)
	}
}

// separate's confusion counts and best cut on a hand-made set of arms.
func TestSeparate(t *testing.T) {
	arm := func(outcome string, lambda, update float64, first, spike int) armGauges {
		a := armGauges{Outcome: outcome, SpikeAt: spike}
		for g := range a.Max {
			a.Max[g], a.First[g] = math.NaN(), -1
		}
		a.Max[gaugeLambda], a.Max[gaugeUpdate], a.First[gaugeUpdate] = lambda, update, first
		return a
	}
	arms := []armGauges{
		arm("spiked", 0.8, 1.3, 10, 20),   // update reaches before the spike; λ₁ does not reach
		arm("diverged", 1.5, 1.1, 30, 25), // update reaches after the spike
		arm("stable", 2.0, 0.9, -1, -1),   // λ₁ reaches, stable
		arm("stable", 0.5, 0.7, -1, -1),
	}
	u := separate(arms, gaugeUpdate)
	if u.TP != 2 || u.FP != 0 || u.FN != 0 || u.TN != 2 || u.Before != 1 || u.Right() != 4 {
		t.Errorf("update: %+v; want TP 2, FP 0, FN 0, TN 2, before 1", u)
	}
	// Cuts 0.7, 0.9, 1.1, 1.3, ∞ classify 2, 3, 4, 3, 2 right: the best is 1.1.
	if u.BestCut != 1.1 || u.BestRight != 4 {
		t.Errorf("update best cut %v (%d right), want 1.1 (4)", u.BestCut, u.BestRight)
	}
	l := separate(arms, gaugeLambda)
	if l.TP != 1 || l.FP != 1 || l.FN != 1 || l.TN != 1 || l.Right() != 2 {
		t.Errorf("λ₁: %+v; want TP 1, FP 1, FN 1, TN 1", l)
	}
	if f := separate(arms, gaugeFelt); f.Measured != 0 {
		t.Errorf("felt measured on %d arms, want 0", f.Measured)
	}
	v := gaugeVerdict(arms)
	for _, want := range []string{"**Verdict**", "update_sharpness separates them better than λ₁ (4 against 2 right)", "update_sharpness 4/4 right (2 of the 2 unstable reached it, 1 before the spike; 0 of the 2 stable)", "λ₁ 2/4 right", "felt not measured"} {
		if !strings.Contains(v, want) {
			t.Errorf("verdict lacks %q:\n%s", want, v)
		}
	}
	// The felt curvature measured on two arms (a spiked one it misses, a stable one it
	// clears): compared on those two only, where update_sharpness gets both right.
	arms[0].Max[gaugeFelt], arms[3].Max[gaugeFelt] = 0.9, 0.6
	if v := gaugeVerdict(arms); !strings.Contains(v, "better than the felt curvature on the 2 arms where both are measured (2 against 1 right)") {
		t.Errorf("verdict with felt on two arms:\n%s", v)
	}
	if v := gaugeVerdict(arms[2:]); !strings.Contains(v, "no separation can be tested") {
		t.Errorf("all-stable verdict: %s", v)
	}
}

// The quick stability experiment writes the gauge table, whose rows agree with the arms'
// metrics.jsonl and complete.json read here on their own, the verdict, stability_gauges.csv
// and a decodable stability_gauges.png.
func TestStabilityGaugesReport(t *testing.T) {
	dir := t.TempDir()
	rep, err := quickRun(t, context.Background(), "stability", dir, Sweep{Warmup: -1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := LoadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "**Verdict** (the 10 minibatch arms") {
		t.Errorf("report.md does not state the verdict on the 10 minibatch arms")
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(string(md), "\n") {
		if cells := strings.Split(strings.Trim(line, "| "), " | "); len(cells) == len(gaugeHeader) && strings.HasPrefix(cells[0], "b32_") {
			rows[cells[0]] = cells
		}
	}
	g := res.Plan.Groups[0]
	if len(rows) != len(g.Arms) {
		t.Fatalf("gauge table has %d rows, the plan %d arms", len(rows), len(g.Arms))
	}
	for _, a := range g.Arms {
		row := rows[a.Name]
		if row == nil {
			t.Errorf("no gauge row for %s", a.Name)
			continue
		}
		// The reference: the raw lines of metrics.jsonl, after the switch.
		f, err := os.Open(filepath.Join(res.RunDirOf(g.Name, a.Name), "metrics.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		maxOf := map[string]float64{"sharpness": math.NaN(), "update_sharpness": math.NaN(), "batch_sharpness": math.NaN()}
		samples := 0
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			edge, ok := m["stability_threshold"].(float64)
			if !ok || m["step"].(float64) <= float64(g.Warmup) {
				continue
			}
			if _, ok := m["update_sharpness"]; ok {
				samples++
			}
			for k := range maxOf {
				if v, ok := m[k].(float64); ok && (math.IsNaN(maxOf[k]) || v/edge > maxOf[k]) {
					maxOf[k] = v / edge
				}
			}
		}
		f.Close()
		if samples == 0 {
			t.Errorf("%s: no update_sharpness in metrics.jsonl after the switch", a.Name)
		}
		for col, k := range map[int]string{2: "sharpness", 4: "update_sharpness", 5: "batch_sharpness"} {
			if want := fmtG(maxOf[k], 3); row[col] != want {
				t.Errorf("%s: column %q = %s, metrics.jsonl gives %s", a.Name, gaugeHeader[col], row[col], want)
			}
		}
		r := res.Find(g.Name, a.Name)
		unstable := r.Diverg > 0 || float64(r.MaxTrainLoss) > 1.5*float64(r.Start.TrainLoss)
		if got := strings.HasPrefix(row[1], "yes"); got != unstable {
			t.Errorf("%s: spiked? %q, complete.json says unstable %v", a.Name, row[1], unstable)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "stability_gauges.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), "\n"); n != 1+len(g.Arms) {
		t.Errorf("stability_gauges.csv: %d lines, want a header and %d arms", n, len(g.Arms))
	}
	found := false
	for _, fig := range rep.Figures {
		if fig.File == "stability_gauges.png" {
			found = true
		}
	}
	pf, err := os.Open(filepath.Join(dir, "stability_gauges.png"))
	if err != nil || !found {
		t.Fatalf("stability_gauges.png: %v (in the report's figures: %v)", err, found)
	}
	defer pf.Close()
	if _, err := png.Decode(pf); err != nil {
		t.Errorf("stability_gauges.png: %v", err)
	}
}
