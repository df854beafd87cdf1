package tui

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"sharpflat/lab"
	"sharpflat/lab/rundir"
	"sharpflat/lab/train"
)

// compareMetrics is step s of a synthetic run with update (wDom, wBulk): a decaying loss,
// the full-train loss every 10 steps, λ₁ rising, χ(g) around ½. A seed shifts the values.
func compareMetrics(s int, wDom, wBulk, seed float64) train.Metrics {
	x := float64(s)
	m := train.Metrics{Step: s, TrainLoss: train.NA, TrainAcc: train.NA, TestLoss: train.NA, TestAcc: train.NA,
		ChiFullGrad: train.NA, Overlap: train.NA, RefreshMS: train.NA, EnergyH: train.NA, EnergyHStderr: train.NA,
		EnergyG: train.NA, EnergyGStderr: train.NA, EnergyF: train.NA, EnergyFStderr: train.NA,
		StepsPerSec: train.NA, Alpha: train.Num(train.AlphaOf(wDom, wBulk)), WDom: wDom, WBulk: wBulk, Batch: 32, K: 3, Refresh: 5}
	base := (2+seed)*math.Exp(-x/100) + 0.1
	m.Loss = train.Num(base * (1 + 0.3*noise(x, 1.7)))
	if s%10 == 0 {
		m.TrainLoss = train.Num(base)
	}
	m.Sharpness = train.Num(1 + seed + 10*(1-math.Exp(-x/200)))
	m.ChiGrad = train.Num(0.3 + 0.2*seed + 0.2*noise(x, 2.3))
	m.StabilityThreshold = 20
	return m
}

// writeCompareRun writes a run directory with the rundir writer: steps from..to, the update
// (wDom, wBulk) from the switch step on (SGD before it, as a switch arm's warm-up).
func writeCompareRun(t *testing.T, dir string, from, to, switchAt int, wDom, wBulk, seed float64) {
	t.Helper()
	cfg, err := train.Preset("demo")
	if err != nil {
		t.Fatal(err)
	}
	cfg.WDom, cfg.WBulk = wDom, wBulk
	w, err := rundir.Create(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for s := from; s <= to; s++ {
		d, b := 1.0, 1.0
		if s >= switchAt {
			d, b = wDom, wBulk
		}
		m := compareMetrics(s, d, b, seed)
		if err := w.Record(&m); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(nil, nil, to); err != nil {
		t.Fatal(err)
	}
}

// switchArms are the arms of `experiment switch`, in plan order.
var compareArms = []struct {
	name        string
	wDom, wBulk float64
	label       string
}{{"sgd", 1, 1, "SGD"}, {"dom", 1, 0, "Dom-SGD"}, {"bulk", 0, 1, "Bulk-SGD"}}

// writeSwitchExperiment lays out dir as `experiment switch` does: plan.json, then
// runs/GROUP/{warmup,sgd,dom,bulk} for each group, and a partial run left by a killed
// process.
func writeSwitchExperiment(t *testing.T, dir string, groups ...string) {
	t.Helper()
	type arm struct {
		Name  string `json:"name"`
		Steps int    `json:"steps"`
	}
	type group struct {
		Name   string `json:"name"`
		Warmup int    `json:"warmup"`
		Arms   []arm  `json:"arms"`
	}
	plan := struct {
		Experiment string  `json:"experiment"`
		Groups     []group `json:"groups"`
	}{Experiment: "switch"}
	for gi, g := range groups {
		grp := group{Name: g, Warmup: 40}
		writeCompareRun(t, filepath.Join(dir, "runs", g, "warmup"), 1, 40, 1, 1, 1, float64(gi))
		for _, a := range compareArms {
			grp.Arms = append(grp.Arms, arm{a.name, 30})
			writeCompareRun(t, filepath.Join(dir, "runs", g, a.name), 41, 70, 41, a.wDom, a.wBulk, float64(gi))
		}
		plan.Groups = append(plan.Groups, grp)
		if err := os.MkdirAll(filepath.Join(dir, "runs", g, ".partial-sgd-host-1"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	raw, _ := json.MarshalIndent(plan, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "plan.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Three run directories read back with their regimes (from the last step: the arms switch
// from SGD), their labels, distinct glyphs and every point.
func TestCompareLoadsRuns(t *testing.T) {
	root := t.TempDir()
	var dirs []string
	for _, a := range compareArms {
		d := filepath.Join(root, a.name)
		writeCompareRun(t, d, 1, 100, 51, a.wDom, a.wBulk, 0)
		dirs = append(dirs, d)
	}
	runs, err := loadComparison(dirs)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 {
		t.Fatalf("%d runs, want 3", len(runs))
	}
	glyphs := map[rune]bool{}
	for i, r := range runs {
		a := compareArms[i]
		if r.Dir != dirs[i] || r.Name != a.name || r.Regime != a.label || r.Label != a.label {
			t.Errorf("run %d: dir %q name %q regime %q label %q, want %q %q %q %q", i, r.Dir, r.Name, r.Regime, r.Label, dirs[i], a.name, a.label, a.label)
		}
		if len(r.Loss) != 100 || len(r.TrainLoss) != 10 || len(r.Sharpness) != 100 || len(r.Chi) != 100 {
			t.Errorf("%s: %d loss, %d train-loss, %d λ₁, %d χ points; want 100, 10, 100, 100",
				r.Name, len(r.Loss), len(r.TrainLoss), len(r.Sharpness), len(r.Chi))
		}
		if r.First != 1 || r.Last != 100 || r.Warning != "" {
			t.Errorf("%s: steps %d–%d, warning %q", r.Name, r.First, r.Last, r.Warning)
		}
		if p := r.TrainLoss[9]; p.Step != 100 || p.V != float64(compareMetrics(100, 1, 1, 0).TrainLoss) {
			t.Errorf("%s: last train-loss point %+v", r.Name, p)
		}
		glyphs[r.Glyph] = true
	}
	if len(glyphs) != 3 {
		t.Errorf("glyphs %v are not distinct", glyphs)
	}
	// The values agree with rundir.ReadMetrics, which this file's reader stands in for.
	ms, err := rundir.ReadMetrics(dirs[1])
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if p := runs[1].Sharpness[i]; p.Step != m.Step || p.V != float64(m.Sharpness) {
			t.Fatalf("λ₁ point %d is %+v, rundir reads step %d %v", i, p, m.Step, m.Sharpness)
		}
		if p := runs[1].Loss[i]; p.V != float64(m.Loss) {
			t.Fatalf("loss point %d is %+v, rundir reads %v", i, p, m.Loss)
		}
	}
	// The same directory twice is one run; CheckCompare finds nothing to warn of.
	again, err := loadComparison(append(dirs, dirs[0]+string(filepath.Separator)))
	if err != nil || len(again) != 3 {
		t.Fatalf("a directory named twice: %v, %d runs", err, len(again))
	}
	if w, err := CheckCompare(dirs); len(w) != 0 || err != nil {
		t.Errorf("CheckCompare: %q, %v", w, err)
	}
}

// A last line cut short (a run killed while writing it) is left out with a warning; a bad
// line before the last is an error naming the file and line.
func TestCompareTruncatedRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cut")
	writeCompareRun(t, dir, 1, 812, 1, 1, 1, 0)
	path := filepath.Join(dir, "metrics.jsonl")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"step":813,"loss":0.5,"train_lo`)
	f.Close()
	runs, err := loadComparison([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	r := runs[0]
	if r.Last != 812 || len(r.Loss) != 812 || r.Loss[811].Step != 812 {
		t.Errorf("read steps %d–%d, %d loss points; want 1–812", r.First, r.Last, len(r.Loss))
	}
	if !strings.Contains(r.Warning, "metrics.jsonl ends in a cut line (line 813") || !strings.Contains(r.Warning, "showing steps 1–812") {
		t.Errorf("warning %q", r.Warning)
	}
	if w, err := CheckCompare([]string{dir}); len(w) != 1 || w[0] != r.Warning || err != nil {
		t.Errorf("CheckCompare: %q, %v", w, err)
	}
	// rundir reads the same file the same way.
	if ms, err := rundir.ReadMetrics(dir); len(ms) != 812 || err == nil {
		t.Errorf("rundir.ReadMetrics: %d steps, %v", len(ms), err)
	}

	// A whole last line that is not JSON counts as cut as well; one before it is an error.
	raw, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(raw), "\n")
	bad := strings.Join(lines[:5], "") + "{not json}\n" + strings.Join(lines[5:812], "")
	os.WriteFile(path, []byte(bad), 0o644)
	if _, err := loadComparison([]string{dir}); err == nil || !strings.Contains(err.Error(), path+": line 6:") {
		t.Errorf("a bad line 6: %v", err)
	}
	os.WriteFile(path, []byte(strings.Join(lines[:3], "")+"{not json}\n"), 0o644)
	if runs, err := loadComparison([]string{dir}); err != nil || runs[0].Last != 3 || !strings.Contains(runs[0].Warning, "line 4") {
		t.Errorf("a bad last line: %v %+v", err, runs)
	}
	// Nothing but a cut line is an error: there is nothing to draw.
	os.WriteFile(path, []byte(`{"step":1,"lo`), 0o644)
	if _, err := loadComparison([]string{dir}); err == nil || !strings.Contains(err.Error(), "no complete step") {
		t.Errorf("only a cut line: %v", err)
	}
}

// A directory that is not a run directory, nor holds any, is refused with a clear error;
// so are a missing directory and more runs than the charts can tell apart.
func TestCompareErrors(t *testing.T) {
	root := t.TempDir()
	empty := filepath.Join(root, "empty")
	os.Mkdir(empty, 0o755)
	os.WriteFile(filepath.Join(empty, "config.json"), []byte("{}"), 0o644)
	if _, err := loadComparison([]string{empty}); err == nil || err.Error() != empty+": not a run directory (no metrics.jsonl), and no run directories under it" {
		t.Errorf("empty directory: %v", err)
	}
	missing := filepath.Join(root, "missing")
	if _, err := loadComparison([]string{missing}); err == nil || !strings.Contains(err.Error(), missing+": no such directory") {
		t.Errorf("missing directory: %v", err)
	}
	file := filepath.Join(empty, "config.json")
	if _, err := loadComparison([]string{file}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file: %v", err)
	}
	if _, err := readCompared(empty); err == nil || !strings.Contains(err.Error(), "not a run directory (no metrics.jsonl)") {
		t.Errorf("readCompared of an empty directory: %v", err)
	}
	noSteps := filepath.Join(root, "nosteps")
	os.Mkdir(noSteps, 0o755)
	os.WriteFile(filepath.Join(noSteps, "metrics.jsonl"), nil, 0o644)
	if _, err := loadComparison([]string{noSteps}); err == nil || !strings.Contains(err.Error(), "no steps yet") {
		t.Errorf("an empty metrics.jsonl: %v", err)
	}

	var many []string
	for i := range 7 {
		d := filepath.Join(root, "many", fmt.Sprintf("run%d", i))
		writeCompareRun(t, d, 1, 5, 1, 1, 1, 0)
		many = append(many, d)
	}
	if _, err := loadComparison(many[:6]); err != nil {
		t.Errorf("6 runs: %v", err)
	}
	if _, err := loadComparison(many); err == nil || !strings.Contains(err.Error(), "7 runs to compare") || !strings.Contains(err.Error(), "at most 6") {
		t.Errorf("7 runs: %v", err)
	}
	// A directory of 7 runs is refused the same way.
	if _, err := loadComparison([]string{filepath.Join(root, "many")}); err == nil || !strings.Contains(err.Error(), "at most 6") {
		t.Errorf("a directory of 7 runs: %v", err)
	}
}

// An experiment's output directory expands to its finished arms in plan order, without the
// warm-ups and partial runs; so does one of its groups (in name order), and the arms are
// labelled by their regimes after the switch.
func TestCompareExperimentDirectory(t *testing.T) {
	exp := filepath.Join(t.TempDir(), "switch")
	writeSwitchExperiment(t, exp, "ce_seed1")
	runs, err := loadComparison([]string{exp})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range runs {
		got = append(got, r.Name+"="+r.Label)
		if r.First != 41 || r.Last != 70 {
			t.Errorf("%s: steps %d–%d, want 41–70", r.Name, r.First, r.Last)
		}
	}
	if s := strings.Join(got, " "); s != "sgd=SGD dom=Dom-SGD bulk=Bulk-SGD" {
		t.Errorf("experiment directory: %s", s)
	}
	runs, err = loadComparison([]string{filepath.Join(exp, "runs", "ce_seed1")})
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, r := range runs {
		got = append(got, r.Name)
	}
	if s := strings.Join(got, " "); s != "bulk dom sgd" {
		t.Errorf("group directory: %s", s)
	}
	// A warm-up named on its own is shown.
	if runs, err := loadComparison([]string{filepath.Join(exp, "runs", "ce_seed1", "warmup")}); err != nil || runs[0].Label != "warmup SGD" {
		t.Errorf("warm-up: %v %+v", err, runs)
	}

	// Two groups: 6 arms fit, named by group and arm.
	two := filepath.Join(t.TempDir(), "two")
	writeSwitchExperiment(t, two, "ce_seed1", "ce_seed2")
	runs, err = loadComparison([]string{two})
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, r := range runs {
		got = append(got, r.Label)
	}
	if s := strings.Join(got, ", "); s != "ce_seed1 SGD, ce_seed1 Dom-SGD, ce_seed1 Bulk-SGD, ce_seed2 SGD, ce_seed2 Dom-SGD, ce_seed2 Bulk-SGD" {
		t.Errorf("two groups: %s", s)
	}
	// Arms not yet finished are not there; none finished is an error.
	os.RemoveAll(filepath.Join(two, "runs"))
	if _, err := loadComparison([]string{two}); err == nil || !strings.Contains(err.Error(), "switch experiment has no finished run yet") {
		t.Errorf("no finished arm: %v", err)
	}
}

// findRuns lists the runs under a directory newest first, and nothing for a missing one.
func TestCompareFindRuns(t *testing.T) {
	base := t.TempDir()
	now := time.Now()
	for i, name := range []string{"demo-20260101-000000", "demo-20260102-000000", "demo-20260103-000000"} {
		d := filepath.Join(base, name)
		writeCompareRun(t, d, 1, 3, 1, 1, 1, 0)
		// The middle one was written last.
		age := map[int]time.Duration{0: 3 * time.Hour, 1: time.Minute, 2: time.Hour}[i]
		os.Chtimes(filepath.Join(d, "metrics.jsonl"), now.Add(-age), now.Add(-age))
	}
	os.Mkdir(filepath.Join(base, "not-a-run"), 0o755)
	os.Mkdir(filepath.Join(base, ".hidden"), 0o755)
	got, err := findRuns(base)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range got {
		names = append(names, filepath.Base(p))
	}
	if s := strings.Join(names, " "); s != "demo-20260102-000000 demo-20260103-000000 demo-20260101-000000" {
		t.Errorf("findRuns: %s", s)
	}
	if got, err := findRuns(filepath.Join(base, "missing")); got != nil || err != nil {
		t.Errorf("missing base: %v, %v", got, err)
	}
}

// A long run is thinned for drawing evenly by step, to at most the limit, keeping the
// first and last points; a rollback in the file drops the steps it went back over.
func TestCompareDownsample(t *testing.T) {
	var pts []lab.Point
	for s := 1; s <= 100000; s++ {
		pts = append(pts, lab.Point{Step: s, V: float64(s)})
	}
	for _, limit := range []int{2, 3, 100, 2000} {
		d := downsample(pts, limit)
		if len(d) > limit || len(d) < limit-1 || d[0].Step != 1 || d[len(d)-1].Step != 100000 {
			t.Errorf("limit %d: %d points, %+v … %+v", limit, len(d), d[0], d[len(d)-1])
		}
		for i := 1; i < len(d); i++ {
			if d[i].Step <= d[i-1].Step {
				t.Fatalf("limit %d: steps out of order at %d", limit, i)
			}
		}
		// Evenly: no gap much wider than the range over the limit.
		for i := 1; i < len(d); i++ {
			if gap := d[i].Step - d[i-1].Step; gap > 2*100000/(limit-1)+1 {
				t.Errorf("limit %d: gap %d at %d", limit, gap, i)
				break
			}
		}
	}
	if d := downsample(pts[:10], 2000); len(d) != 10 {
		t.Errorf("a short series changed: %d points", len(d))
	}
	// Uneven steps (the full-train loss of a long run, every 7 steps) keep the last point.
	var sparse []lab.Point
	for s := 7; s <= 70000; s += 7 {
		sparse = append(sparse, lab.Point{Step: s, V: 1})
	}
	sparse = append(sparse, lab.Point{Step: 70003, V: 2})
	if d := downsample(sparse, 2000); len(d) > 2000 || d[len(d)-1] != sparse[len(sparse)-1] {
		t.Errorf("sparse: %d points, last %+v", len(d), d[len(d)-1])
	}

	// Through the loader: a long run keeps ≤ comparePoints per series and its last step.
	dir := filepath.Join(t.TempDir(), "long")
	writeCompareRun(t, dir, 1, 5003, 1, 1, 0, 0)
	runs, err := loadComparison([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	r := runs[0]
	for name, s := range map[string][]lab.Point{"loss": r.Loss, "λ₁": r.Sharpness, "χ": r.Chi, "train loss": r.TrainLoss} {
		if len(s) > comparePoints {
			t.Errorf("%s: %d points", name, len(s))
		}
	}
	if r.Sharpness[len(r.Sharpness)-1].Step != 5003 || r.Chi[len(r.Chi)-1].Step != 5003 || r.TrainLoss[len(r.TrainLoss)-1].Step != 5000 {
		t.Errorf("last points: λ₁ %+v, χ %+v, train loss %+v", r.Sharpness[len(r.Sharpness)-1], r.Chi[len(r.Chi)-1], r.TrainLoss[len(r.TrainLoss)-1])
	}
	if len(r.TrainLoss) != 500 || r.Regime != "Dom-SGD" || r.Label != "long Dom-SGD" {
		t.Errorf("%d train-loss points, regime %q, label %q", len(r.TrainLoss), r.Regime, r.Label)
	}
	// χ is averaged over its last steps: its spread shrinks.
	lo, hi := 1.0, 0.0
	for _, p := range r.Chi[10:] {
		lo, hi = math.Min(lo, p.V), math.Max(hi, p.V)
	}
	if hi-lo > 0.15 {
		t.Errorf("χ averaged spreads over %.3f–%.3f", lo, hi)
	}

	// A rollback recorded in the file: steps 1–30, then 21–25 again.
	rb := filepath.Join(t.TempDir(), "rollback")
	cfg, _ := train.Preset("demo")
	w, err := rundir.Create(rb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range append(compareSeq(1, 30), compareSeq(21, 25)...) {
		m := compareMetrics(s, 1, 1, 0)
		w.Record(&m)
	}
	w.Close(nil, nil, 25)
	runs, err = loadComparison([]string{rb})
	if err != nil {
		t.Fatal(err)
	}
	if r := runs[0]; len(r.Loss) != 25 || r.Last != 25 || len(r.TrainLoss) != 2 {
		t.Errorf("after a rollback: %d loss points to step %d, %d train-loss points; want 25, 25, 2", len(r.Loss), r.Last, len(r.TrainLoss))
	}
}

func compareSeq(a, b int) []int {
	var s []int
	for i := a; i <= b; i++ {
		s = append(s, i)
	}
	return s
}

// The glyphs are distinct, one cell wide, and none of the live charts' own.
func TestCompareGlyphs(t *testing.T) {
	seen := map[rune]bool{}
	for _, g := range compareGlyphs {
		if seen[g] {
			t.Errorf("glyph %c twice", g)
		}
		seen[g] = true
		if w := ansi.StringWidth(string(g)); w != 1 {
			t.Errorf("glyph %c is %d cells wide", g, w)
		}
		if strings.ContainsRune("•×·+─╌┊", g) {
			t.Errorf("glyph %c is a live chart's", g)
		}
	}
}

// The compared runs' glyphs are drawn on each panel's plot and named in its legend,
// beside a live series; a narrow legend shortens them before the live keys.
func TestCompareDraws(t *testing.T) {
	root := t.TempDir()
	var dirs []string
	for i, a := range compareArms {
		d := filepath.Join(root, a.name)
		writeCompareRun(t, d, 1, 300, 101, a.wDom, a.wBulk, float64(i))
		dirs = append(dirs, d)
	}
	runs, err := loadComparison(dirs)
	if err != nil {
		t.Fatal(err)
	}
	live := []lab.Point{{Step: 1, V: 1}, {Step: 150, V: 0.5}}
	for _, panel := range []comparePanel{compareLoss, compareSharpness, compareChi} {
		g := newGrid(80, 14)
		a := g.all()
		legend(a, append([]item{title("panel", "", keep), seriesKey("•", inkTrain, "train", "0.5", 2)}, compareLegend(runs)...)...)
		p := linePlot{y0: math.NaN(), logY: panel == compareLoss, series: append(compareSeries(runs, panel),
			plotSeries{pts: live, ink: inkTrain, mode: marker, glyph: '•'})}
		if panel == compareChi {
			p.y0, p.y1 = 0, 1
		}
		p.draw(a.sub(0, 1, a.w, a.h-1))
		screen := g.render(&NewStyles(asciiRenderer()).Ink)
		head, plot, _ := strings.Cut(screen, "\n")
		for _, r := range runs {
			if strings.Count(plot, string(r.Glyph)) < 10 {
				t.Errorf("panel %d: glyph %c drawn %d times:\n%s", panel, r.Glyph, strings.Count(plot, string(r.Glyph)), screen)
			}
			if !strings.Contains(head, string(r.Glyph)+" "+r.Label) {
				t.Errorf("panel %d: legend %q has no %c %s", panel, head, r.Glyph, r.Label)
			}
		}
		if !strings.Contains(plot, "•") {
			t.Errorf("panel %d: the live series is not drawn:\n%s", panel, screen)
		}
		for i := range g.r {
			if g.r[i] == '◇' && g.k[i] != inkCompared {
				t.Errorf("panel %d: ◇ in ink %d, want %d", panel, g.k[i], inkCompared)
				break
			}
		}
	}
	// Narrow: the live key keeps its value, the runs their glyphs and short names.
	g := newGrid(44, 1)
	legend(g.all(), append([]item{title("loss", "", keep), seriesKey("•", inkTrain, "train", "0.5", 2)}, compareLegend(runs)...)...)
	if head := g.render(&NewStyles(asciiRenderer()).Ink); !strings.Contains(head, "• train 0.5") || !strings.Contains(head, "◇ SGD  △ Dom  □ Bulk") {
		t.Errorf("narrow legend %q", head)
	}
}

// Every legend names every run drawn: `lab --compare` on an `experiment switch` output (three
// arms) at 80×24 and 120×40, with and without colour, names each arm by glyph in the loss,
// sharpness and alignment legends (at 120×40 □ Bulk was left out, and the loss legend named
// none), and the live keys keep their values beside them.
func TestCompareLegendNamesEveryRun(t *testing.T) {
	dir := t.TempDir()
	writeSwitchExperiment(t, dir, "g")
	snap := syntheticSnapshot(600)
	for _, r := range []*lipgloss.Renderer{asciiRenderer(), colorRenderer()} {
		for _, size := range [][2]int{{80, 24}, {120, 40}} {
			m := New(idleEngine(t), r, Options{Compare: []string{dir}})
			t.Cleanup(m.Close)
			if len(m.runs) != 3 {
				t.Fatalf("%d runs loaded: %q", len(m.runs), m.status)
			}
			mm, _ := m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			mm, _ = mm.Update(snapshotMsg{snap})
			v := ansi.Strip(mm.View())
			for _, run := range m.runs {
				re := regexp.MustCompile(regexp.QuoteMeta(string(run.Glyph)) + " (" + regexp.QuoteMeta(run.Label) + "|" + regexp.QuoteMeta(run.Short) + ")")
				if n := len(re.FindAllString(v, -1)); n < 3 {
					t.Errorf("%v: %c %s is named in %d legends, want 3:\n%s", size, run.Glyph, run.Label, n, v)
				}
			}
			for _, key := range []string{"─ λ₁ 12.71", "· g 0.44"} {
				if !strings.Contains(v, key) {
					t.Errorf("%v: the live key %q lost its value:\n%s", size, key, v)
				}
			}
		}
	}
}
